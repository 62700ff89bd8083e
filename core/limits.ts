/**
 * @module limits
 * Documented request limits. The API's payload limit is Lambda's: a synchronous invocation
 * carries at most 6 MB of event, and API Gateway base64-encodes binary bodies (4/3 larger).
 */

/** Largest request body a handler accepts, in bytes (Lambda's 6 MB invocation payload). */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Largest raw file a direct `PUT /simulation/{name}/input/{path+}` accepts (base64 overhead). */
export const MAX_DIRECT_INPUT_BYTES = Math.floor((MAX_REQUEST_BYTES * 3) / 4) - 64 * 1024;

/** Most jobs in one append request. */
export const MAX_APPEND_JOBS = 1000;

/** How long a presigned S3 URL stays valid, in seconds. */
export const PRESIGNED_URL_SECONDS = 3600;

/** Largest simulation input file through presigned URLs (S3's single PUT limit). */
export const MAX_PRESIGNED_INPUT_BYTES = 5 * 1024 ** 3;

/**
 * Largest job output, in UTF-8 bytes of its JSON, carried inline in an event and kept in the job
 * item; anything larger goes to the results bucket and the event carries its key. Well inside
 * SNS's 256 KB message and DynamoDB's 400 KB item. The worker and the update processor both
 * apply it.
 */
export const MAX_INLINE_OUTPUT_BYTES = 200 * 1024;

/**
 * Largest job Input, in UTF-8 bytes of its JSON. The rest of the 400 KB item is left for the job's
 * other fields and an output: a finished job whose inline output would not fit beside its Input
 * has the output moved to S3 by the update processor (jobs/apply-event.ts), so it always fits.
 */
export const MAX_INPUT_BYTES = 300 * 1024;

/** Deepest nesting of objects and arrays a job's Input may have. */
export const MAX_INPUT_DEPTH = 32;

/**
 * Largest result page answer, in bytes of JSON. A Lambda response carries at most 6 MB, and the
 * body travels as a JSON string inside it, where each quote and backslash is escaped again (up
 * to twice the size): half of it, less room for headers.
 */
export const MAX_PAGE_BODY_BYTES = Math.floor(2.9 * 1024 * 1024);

/**
 * Most releases of one job for failures that are no worker's death (a throttled read, a failed
 * staging download, a shutdown), each a fresh copy of its message that spends no delivery
 * (worker/release.ts). Past it, a release is plain and spends one, so a job that keeps failing
 * transiently still ends: in its pool's dead-letter queue, `worker-lost`, with a message that says so.
 */
export const MAX_TRANSIENT_RELEASES = 10;

/** Most bytes of stdout a command-engine run may print; more fails the job (`model`). */
export const MAX_COMMAND_STDOUT_BYTES = 64 * 1024 * 1024;
