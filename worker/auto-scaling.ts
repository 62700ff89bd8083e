/**
 * @module auto-scaling
 * The worker's Auto Scaling port (worker/instance-lifecycle.ts) on AWS: its own instance in its
 * own group, the only resources its IAM names (terraform/modules/worker-pool/iam.tf).
 */
import { CompleteLifecycleActionCommand, SetInstanceProtectionCommand } from "@aws-sdk/client-auto-scaling";
import { autoScalingClient } from "../core/aws/auto-scaling-client.ts";
import type { ScalingPort } from "./instance-lifecycle.ts";

export function awsScalingPort(options: { group: string; instanceId: string; hook?: string }): ScalingPort {
  return {
    async setProtection(protect) {
      await autoScalingClient().send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: options.group,
          InstanceIds: [options.instanceId],
          ProtectedFromScaleIn: protect,
        }),
      );
    },
    async completeTermination() {
      if (!options.hook) return;
      await autoScalingClient().send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: options.group,
          LifecycleHookName: options.hook,
          InstanceId: options.instanceId,
          LifecycleActionResult: "CONTINUE",
        }),
      );
    },
  };
}
