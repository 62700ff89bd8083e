/**
 * @module local/env/process-defaults
 * Powertools settings for running on one machine, set before any handler module (and so the
 * one Logger, Tracer and Metrics) is loaded: import this first. No X-Ray daemon, no EMF metric
 * lines on stdout, warnings and errors only unless POWERTOOLS_LOG_LEVEL says otherwise.
 */
process.env.POWERTOOLS_DEV ??= "true";
process.env.POWERTOOLS_TRACE_ENABLED ??= "false";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
// The SDK warns once per process that it will need Node 22 in 2027; the Lambda runtime is 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
