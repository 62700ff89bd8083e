/**
 * @module jobs/idempotent-append
 * The append route's one call. Without an Idempotency-Key it is appendJobs; with one, append
 * runs behind Powertools idempotency:
 * a retried request with the same key (and the same body) answers the first response and
 * writes nothing; the same key with a different body is a conflict. Records live 24 h, long
 * enough for a desktop client that retries after a network outage.
 *
 * The key is scoped by user and session, so two users (or sessions) may use the same key.
 */
import {
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { dynamoDbClient } from "../aws/clients.ts";
import { config } from "../config.ts";
import { ConflictError, isErrorOf } from "../errors.ts";
import { appendJobs } from "./append-jobs.ts";

interface AppendCall {
  username: string;
  sessionId: string;
  idempotencyKey: string;
  jobs: unknown;
}

/** Appends `jobs` (the parsed body) to the caller's session, once per Idempotency-Key if given. */
export function appendJobsOnce(
  call: Omit<AppendCall, "idempotencyKey"> & { idempotencyKey: string | undefined },
  context: Context,
): Promise<string[]> {
  const { idempotencyKey } = call;
  return idempotencyKey
    ? appendWithIdempotencyKey({ ...call, idempotencyKey }, context)
    : appendJobs(call.username, call.sessionId, call.jobs);
}

const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: "[username, sessionId, idempotencyKey]",
  payloadValidationJmesPath: "jobs",
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: 24 * 60 * 60,
});

let appendOnce: ((call: AppendCall) => Promise<string[]>) | undefined;

function idempotentAppend(): (call: AppendCall) => Promise<string[]> {
  appendOnce ??= makeIdempotent(
    (call: AppendCall) =>
      appendJobs(call.username, call.sessionId, call.jobs, { idempotencyKey: call.idempotencyKey }),
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTable,
        awsSdkV3Client: dynamoDbClient(),
      }),
      config: idempotencyConfig,
    },
  );
  return appendOnce;
}

async function appendWithIdempotencyKey(call: AppendCall, context: Context): Promise<string[]> {
  // Without the context, a timed-out call would leave the record INPROGRESS for an hour.
  idempotencyConfig.registerLambdaContext(context);
  try {
    return await idempotentAppend()(call);
  } catch (error) {
    // isErrorOf also matches by name: a bundle can hold two copies of a class (notes/pitfalls.md).
    if (isErrorOf(error, IdempotencyValidationError)) {
      throw new ConflictError(
        "IdempotencyKeyReused",
        "This Idempotency-Key was already used with a different body; send a new key for a new append.",
      );
    }
    if ((error as Error).name === "IdempotencyAlreadyInProgressError") {
      throw new ConflictError(
        "AppendInProgress",
        "An append with this Idempotency-Key is still in progress; retry in a few seconds to get its answer.",
      );
    }
    throw error;
  }
}
