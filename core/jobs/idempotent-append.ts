/**
 * @module jobs/idempotent-append
 * The append route's one call. Without an Idempotency-Key it is appendJobs; with one, append
 * runs behind Powertools idempotency:
 * a retried request with the same key (and the same body) answers the first response and
 * writes nothing; the same key with a different body is a conflict. Records live 24 h, long
 * enough for a desktop client that retries after a network outage.
 *
 * The key is scoped by user and session, so two users (or sessions) may use the same key.
 *
 * Powertools idempotency (and the JMESPath engine it brings) is loaded with the first keyed
 * append: FOQUS sends no Idempotency-Key, so most session functions never need it.
 */
import type { IdempotencyConfig } from "@aws-lambda-powertools/idempotency";
import type { Context } from "aws-lambda";
import { dynamoDbClient } from "../aws/dynamodb-client.ts";
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

interface IdempotentAppend {
  config: IdempotencyConfig;
  append: (call: AppendCall) => Promise<string[]>;
  /** Powertools' class, from the copy that was loaded. */
  IdempotencyValidationError: typeof import("@aws-lambda-powertools/idempotency").IdempotencyValidationError;
}

let idempotent: Promise<IdempotentAppend> | undefined;

async function loadIdempotentAppend(): Promise<IdempotentAppend> {
  const [{ IdempotencyConfig, IdempotencyValidationError, makeIdempotent }, { DynamoDBPersistenceLayer }] =
    await Promise.all([
      import("@aws-lambda-powertools/idempotency"),
      import("@aws-lambda-powertools/idempotency/dynamodb"),
    ]);
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: "[username, sessionId, idempotencyKey]",
    payloadValidationJmesPath: "jobs",
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: 24 * 60 * 60,
  });
  const append = makeIdempotent(
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
  return { config: idempotencyConfig, append, IdempotencyValidationError };
}

async function appendWithIdempotencyKey(call: AppendCall, context: Context): Promise<string[]> {
  idempotent ??= loadIdempotentAppend().catch((error: unknown) => {
    idempotent = undefined; // the next keyed append tries again
    throw error;
  });
  const { config: idempotencyConfig, append, IdempotencyValidationError } = await idempotent;
  // Without the context, a timed-out call would leave the record INPROGRESS for an hour.
  idempotencyConfig.registerLambdaContext(context);
  try {
    return await append(call);
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
