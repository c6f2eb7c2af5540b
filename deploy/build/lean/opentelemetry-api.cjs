// prom-client's CPU counter asks OpenTelemetry for the active span, for exemplars, which offhook never enables (no
// metric is created with enableExemplars). No span is ever active: the same answer the real API gives without an SDK.
module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };
