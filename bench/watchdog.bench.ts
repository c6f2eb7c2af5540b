import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { openSimLine } from '../native/index.ts';
import { silentLogger } from '../shared/index.ts';
import { GatewayConfig } from '../telephony-gateway/config.ts';
import { startGateway } from '../telephony-gateway/gateway.ts';
import { openDriver } from '../telephony-gateway/drivers/open.ts';
import { percentile, report } from './lib.ts';

const RUNS = 5;
const NATS_SILENCE_MS = 1000;

/**
 * How long after NATS dies the gateway's line goes off hook for the watchdog call. The floor is the configured
 * nats_silence (the baseline); the rest is detection (check_interval 100 ms, the PING probe) and the start of dialling.
 */
async function natsStopToOffHook(stateDir: string, run: number): Promise<number> {
  const server = await EmbeddedNatsServer.start();
  const line = await openSimLine({ speed: 100 });
  line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
  const config = GatewayConfig.parse({
    gateway_host: 'gw1',
    state_dir: stateDir,
    nats: { servers: [server.url], prefix: `wdbench${run}` },
    line: { backend: 'sim' },
    people: [{ name: 'alice', number: '100' }],
    watchdog: {
      nats_silence: `${NATS_SILENCE_MS}ms`,
      collector_silence: '0s',
      canary_silence: '0s',
      check_interval: '100ms',
    },
  });
  const driver = await openDriver(config.line, { stateDir: config.state_dir, logger: silentLogger(), line });
  const gateway = await startGateway({ config, driver, logger: silentLogger(), metricsListen: null });
  await new Promise((resolve) => gateway.watchdog.events.once('checked', resolve));
  const offHook = new Promise<number>((resolve) => gateway.events.once('offhook', () => resolve(performance.now())));
  const finished = new Promise((resolve) => gateway.events.once('finished', resolve));
  const stoppedAt = performance.now();
  await server.stop('SIGKILL');
  const elapsed = (await offHook) - stoppedAt;
  await finished;
  await server.start();
  await gateway.stop();
  await line.close();
  await server.dispose();
  return elapsed;
}

export async function run(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'offhook-wd-bench-'));
  try {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await natsStopToOffHook(stateDir, i));
    report({
      bench: 'watchdog',
      rows: [
        {
          name: 'NATS killed → watchdog call off hook, p50',
          value: percentile(samples, 50),
          unit: 'ms',
          baseline: { name: 'nats_silence', value: NATS_SILENCE_MS },
          note: `${RUNS} runs (${samples.map((s) => s.toFixed(0)).join(', ')} ms); check_interval 100 ms, sim line`,
        },
        {
          name: 'NATS killed → watchdog call off hook, max',
          value: Math.max(...samples),
          unit: 'ms',
          baseline: { name: 'nats_silence', value: NATS_SILENCE_MS },
        },
      ],
    });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
