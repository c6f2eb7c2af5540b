import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedNatsServer } from '../lib/embedded-nats.ts';

export interface DemoOptions {
  keepDir: boolean;
}

const say = (line: string): void => {
  process.stdout.write(`[demo] ${line}\n`);
};

/** Starts the embedded NATS server and the components, and stops everything on Ctrl-C. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-demo-'));
  const nats = await EmbeddedNatsServer.start({ storeDir: join(dir, 'jetstream') });
  say(`nats-server (pid ${nats.pid}) listening on ${nats.url}, JetStream in ${nats.storeDir}`);
  say('waiting for components (agent, collector, gateway); press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  say('stopping');
  await nats.stop('SIGTERM');
  if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  say('stopped');
}
