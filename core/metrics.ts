/**
 * @module metrics
 * The one Metrics of a process (embedded metric format), apart from core/observability.ts so
 * that only the bundles that publish metrics carry Powertools metrics.
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import { config } from "./config.ts";

const serviceName = config.serviceName;

export const metrics = new Metrics({ serviceName, namespace: config.metricsNamespace });

/**
 * Publishes metrics that carry one more dimension (State, Phase…) as one embedded-metric
 * document, values of one metric aggregated into it (a document's dimensions apply to all of it).
 */
export function publishWithDimension(name: string, value: string, add: (metrics: Metrics) => void): void {
  const dimensioned = new Metrics({
    serviceName,
    namespace: config.metricsNamespace,
    defaultDimensions: { [name]: value },
  });
  add(dimensioned);
  dimensioned.publishStoredMetrics();
}
