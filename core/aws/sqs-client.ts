/**
 * @module aws/sqs-client
 * The process's SQS client (aws/clients.ts). Also exports the commands of the rare calls that
 * load this module through aws/client-modules.ts (archive and restore requests: at most one per session
 * per grace period, or per plan change), so the functions whose other work needs no SQS keep it
 * in a chunk of its own (handlers/build.ts).
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { clientOptions, sharedClient } from "./clients.ts";

export { SendMessageCommand } from "@aws-sdk/client-sqs";

export function sqsClient(): SQSClient {
  return sharedClient("SQS", () => new SQSClient(clientOptions()));
}
