import { Registry } from 'prom-client';
import { CollectorConfig } from '../collector/config.ts';
import { AlertEngine, buildRules } from '../collector/alerts/index.ts';
import { collectorMetrics } from '../collector/metrics.ts';
import { InboundValidator, silentLogger, Subjects, systemClock, type ResourceSample } from '../shared/index.ts';
import { realisticSample } from './e2e-load.ts';
import { RULES } from './e2e-throughput.ts';

/**
 * The collector's per-event work without NATS, for quick comparisons while tuning: decode (JSON.parse, the fast
 * acceptor) and the engine with the throughput bench's rules and the collector's metrics.
 * node --import tsx bench/hot-path.ts [HOSTS] [ROUNDS]
 */
const hosts = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 30);
const subjects = new Subjects('hot');
const messages: { subject: string; data: Uint8Array }[] = [];
const encoder = new TextEncoder();
const now = Date.now();
for (let round = 1; round <= rounds; round++)
  for (let h = 0; h < hosts; h++) {
    const sample = { ...realisticSample(`host${h}`, round), ts: now } as ResourceSample;
    messages.push({ subject: subjects.event(sample.host, 'resource'), data: encoder.encode(JSON.stringify(sample)) });
  }
const config = CollectorConfig.parse({ nats: { prefix: 'hot' }, rules: RULES });
const registry = new Registry();
const metrics = collectorMetrics(registry, { records: () => [], hostStates: () => [] });
const validator = new InboundValidator(registry, silentLogger(), subjects);

function pass(): number {
  const engine = new AlertEngine({
    rules: buildRules(config.rules, config.defaults),
    clock: systemClock,
    output: { commit() {} },
    logger: silentLogger(),
    observer: {
      eventProcessed: (kind, seconds) => {
        metrics.events.inc({ kind });
        metrics.evaluation.observe({ kind }, seconds);
      },
    },
  });
  const started = process.cpuUsage();
  let seq = 0;
  for (const msg of messages) {
    const decoded = validator.accept(msg.subject, msg.data);
    if (decoded?.type !== 'resource') throw new Error('not accepted');
    engine.handleEvent(decoded.message, ++seq, now);
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) / messages.length) * 1000;
}
/** What the bare subscriber does per message, for scale. */
function parseOnly(): number {
  const decoder = new TextDecoder();
  const started = process.cpuUsage();
  let points = 0;
  for (const msg of messages) points += (JSON.parse(decoder.decode(msg.data)) as ResourceSample).metrics.length;
  const used = process.cpuUsage(started);
  if (points === 0) throw new Error('no points');
  return ((used.user + used.system) / messages.length) * 1000;
}
for (let i = 0; i < 5; i++)
  process.stdout.write(
    `pass ${i}: ${pass().toFixed(0)} ns, JSON.parse only ${parseOnly().toFixed(0)} ns CPU per event\n`,
  );
