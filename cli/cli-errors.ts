/**
 * @module cli/cli-errors
 * The command line's exit codes and its one error of its own. Every other failure (ApiError,
 * a network error) is turned into a message and an exit code in cli/foqus-cloud.ts, once.
 */

/** Documented exit codes (README "Using it"). */
export const ExitCodes = {
  /** Everything asked for was done, and every job involved succeeded. */
  success: 0,
  /** Done, but some jobs ended in error, terminate or expired. */
  jobsFailed: 1,
  /** The command line was wrong, or a file it names cannot be read. */
  usage: 2,
  /** The API refused a request, or could not be reached. */
  api: 3,
  /** Interrupted with Ctrl-C (128 + SIGINT), the session left as the user chose. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** A wrong command line or an unreadable input: exit code 2, with a message that says what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
