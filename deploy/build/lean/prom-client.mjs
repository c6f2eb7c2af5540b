// What the bundles take from prom-client, from its own files: its index also loads the Pushgateway (node:https,
// node:zlib) and the cluster aggregator (node:cluster), which no offhook process uses. A name missing here fails the
// build (esbuild checks an ESM module's exports), not the process. deploy/build/build.ts, leanDependencies().
export { default as collectDefaultMetrics } from 'prom-client/lib/defaultMetrics.js';
export { default as Counter } from 'prom-client/lib/counter.js';
export { default as Gauge } from 'prom-client/lib/gauge.js';
export { default as Histogram } from 'prom-client/lib/histogram.js';
export { default as Registry } from 'prom-client/lib/registry.js';
