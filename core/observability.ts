/**
 * @module observability
 * The one Logger and Tracer of a process (its Metrics: core/metrics.ts). Keys follow the SNS
 * message attribute names (`username`, `session`, `job`, `event`, `application`). Never log
 * passwords, Authorization headers, presigned URLs or whole Input/Output bodies.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { config } from "./config.ts";

const serviceName = config.serviceName;

/** What this code asks of the tracer. */
export type Tracing = Pick<Tracer, "captureAWSv3Client" | "putAnnotation">;

/** Tracing off: the calls change nothing, as a disabled Tracer's do. */
const untraced: Tracing = {
  captureAWSv3Client: (client) => client,
  putAnnotation: () => {},
};

export const logger = new Logger({ serviceName });
/**
 * Powertools' Tracer where it can trace (config.tracingPossible: in Lambda), loaded before any
 * handler runs, so every client and request is traced as before. Elsewhere (local stack, tests,
 * workers) it would switch itself off: there it is not loaded at all, nor the X-Ray SDK under
 * it, a fifth of a bundle (handlers/build.ts counts it in the bundles anyway).
 */
export const tracer: Tracing = config.tracingPossible
  ? new (await import("@aws-lambda-powertools/tracer")).Tracer({ serviceName })
  : untraced;
