/**
 * @module aws/sns-client
 * The process's SNS client (aws/clients.ts), and the commands core sends with it. Core loads
 * this module through aws/client-modules.ts where it publishes (events, a session's one "finished"
 * notice): most requests of the functions that can publish never do, so SNS is a chunk of its
 * own that a function loads on first use (handlers/build.ts).
 */
import { SNSClient } from "@aws-sdk/client-sns";
import { clientOptions, sharedClient } from "./clients.ts";

export { PublishBatchCommand, PublishCommand } from "@aws-sdk/client-sns";

export function snsClient(): SNSClient {
  return sharedClient("SNS", () => new SNSClient(clientOptions()));
}
