/**
 * @module tiers/plan-change
 * A plan change as admins make it (PUT /user/{name}/plan, `foqus-admin plan`): the plan is set,
 * and an upgrade to premium queues the restore of everything archived (tiers/restore-results.ts).
 * A downgrade archives nothing retroactively: only jobs that finish from then on are archived.
 * Setting premium again queues the restore again, which is how a failed one is retried.
 */
import type { Plan } from "../users/user.ts";
import { setPlan, type UserRecord } from "../users/user-store.ts";
import { requestRestore } from "./restore-results.ts";

export async function changePlan(username: string, plan: Plan): Promise<UserRecord> {
  const user = await setPlan(username, plan);
  if (plan === "premium") await requestRestore(username);
  return user;
}
