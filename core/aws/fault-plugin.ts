/**
 * @module aws/fault-plugin
 * Fault injection for the soak run (`make soak`): a client plugin that fails a share of SDK calls
 * the way AWS fails them under load (throttling, 5xx, timeouts), attempt by attempt, so the SDK's
 * retries and every layer's own retries and releases are exercised. Switched on by FOQUS_FAULT_RATE
 * (0 to 1) in any process, API handlers, the processor and workers alike, and only against an
 * emulator (AWS_ENDPOINT_URL set; core/aws/clients.ts); counts go to FOQUS_FAULT_COUNT_FILE.
 */
import { writeFileSync } from "node:fs";
import type { AnyClient } from "./clients.ts";

const FAULTS = [
  {
    name: "ThrottlingException",
    message: "injected: rate of requests exceeds the allowed throughput",
    status: 400,
  },
  { name: "InternalServerError", message: "injected: internal server error", status: 500 },
  { name: "TimeoutError", message: "injected: the request timed out", status: 0 },
] as const;

export const injectedFaults: Record<string, number> = {};

/** Calls that stand for polling, never failed: a worker's long poll failing is no fault of interest. */
const SPARED = new Set(["ReceiveMessageCommand"]);

export function faultPlugin(rate: number, random: () => number = Math.random) {
  return (client: AnyClient, service: string): void => {
    (client.middlewareStack as { add: (...args: unknown[]) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: unknown) => {
          const command = context.commandName ?? "Unknown";
          if (!SPARED.has(command) && random() < rate) {
            const fault = FAULTS[Math.floor(random() * FAULTS.length)] ?? FAULTS[0];
            const key = `${service}.${command.replace(/Command$/, "")}:${fault.name}`;
            injectedFaults[key] = (injectedFaults[key] ?? 0) + 1;
            writeInjectedFaults(); // a SIGKILLed process has no shutdown in which to write them
            throw Object.assign(new Error(fault.message), {
              name: fault.name,
              $metadata: { httpStatusCode: fault.status },
              $retryable: { throttling: fault.name === "ThrottlingException" },
            });
          }
          return next(args);
        },
      // Inside the SDK's retry loop, as AWS fails requests: each attempt fails at the rate, the
      // SDK retries what AWS would let it retry, and what still fails (about rate³ of calls)
      // reaches every layer above it: API retries by the client, redelivery, worker releases.
      { step: "finalizeRequest", priority: "low", name: "foqusFaultInjection", override: true },
    );
  };
}

/** Writes the faults injected in this process, when FOQUS_FAULT_COUNT_FILE names a file. */
export function writeInjectedFaults(file: string | undefined = process.env.FOQUS_FAULT_COUNT_FILE): void {
  if (file) writeFileSync(file, JSON.stringify(injectedFaults));
}
