/** @module http/user — the caller's account, and plan changes by admins (a billing integration). */
import { ForbiddenError } from "../../core/errors.ts";
import { changePlan } from "../../core/tiers/plan-change.ts";
import { assertValidUsername, Roles } from "../../core/users/user.ts";
import { getUser } from "../../core/users/user-store.ts";
import { parseJsonBody, validate } from "../../core/validation.ts";
import * as z from "../../core/zod.ts";
import { createHttpHandler, type Routes } from "./http-handler.ts";
import { json } from "./respond.ts";

const PlanChangeSchema = z.object({
  Plan: z.enum(["free", "premium"], { error: 'Plan must be "free" or "premium"' }),
});

export const routes: Routes = {
  "GET /user": async ({ caller }) => {
    const user = await getUser(caller.username);
    return json({
      Name: caller.username,
      Plan: user?.Plan ?? caller.plan,
      Roles: user?.Roles ?? caller.roles,
    });
  },
  "PUT /user/{name}/plan": async ({ caller, params, text }) => {
    if (!caller.roles.includes(Roles.admin)) {
      throw new ForbiddenError(
        "Only users with the admin role can change plans; ask your operator (foqus-admin plan).",
      );
    }
    const name = params.name ?? "";
    assertValidUsername(name);
    const { Plan } = validate(PlanChangeSchema, parseJsonBody(text, '{"Plan":"premium"}'), "plan change");
    const user = await changePlan(name, Plan);
    return json({ Name: user.Username, Plan: user.Plan });
  },
};

export const handler = createHttpHandler(routes);
