/**
 * @module aws/auto-scaling-client — the process's Auto Scaling client (aws/clients.ts). Workers
 * only: their own instance's scale-in protection and termination hook.
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { clientOptions, sharedClient } from "./clients.ts";

export function autoScalingClient(): AutoScalingClient {
  return sharedClient("AutoScaling", () => new AutoScalingClient(clientOptions()));
}
