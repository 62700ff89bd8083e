/**
 * @module observability
 * The one Logger, Tracer and Metrics of a process. Keys follow the SNS message attribute names
 * (`username`, `session`, `job`, `event`, `application`). Never log passwords, Authorization
 * headers, presigned URLs or whole Input/Output bodies.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? "foqus-cloud";

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "FoqusCloud",
});

/**
 * Publishes metrics that carry one more dimension (State, Phase…) as one embedded-metric
 * document, values of one metric aggregated into it (a document's dimensions apply to all of it).
 */
export function publishWithDimension(name: string, value: string, add: (metrics: Metrics) => void): void {
  const dimensioned = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "FoqusCloud",
    defaultDimensions: { [name]: value },
  });
  add(dimensioned);
  dimensioned.publishStoredMetrics();
}
