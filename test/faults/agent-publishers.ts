import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { createAgentMetrics } from '../../agent/core/metrics.ts';
import { EventPublisher } from '../../agent/core/publisher.ts';
import { SequenceCounter } from '../../agent/core/sequence.ts';
import { DiskSpool } from '../../agent/index.ts';
import {
  connectNats,
  createRegistry,
  jetstreamClient,
  NatsConfig,
  silentLogger,
  type Subjects,
} from '../../shared/index.ts';

/**
 * A simulated host: the agent's real publisher, disk spool and sequence counter on its own NATS
 * connection and state dir, wired to connection status exactly as agent/agent.ts does. 50 of these
 * cost a fraction of 50 agent processes on a 2-core machine.
 */
export class InProcessAgent {
  readonly publisher: EventPublisher;
  readonly metrics;
  private nc: NatsConnection | null = null;

  constructor(
    readonly host: string,
    stateDir: string,
    private readonly natsUrl: string,
    private readonly subjects: Subjects,
  ) {
    mkdirSync(stateDir, { recursive: true });
    this.metrics = createAgentMetrics(createRegistry('agent'));
    const spool = new DiskSpool(join(stateDir, 'spool'), 64 * 1024 * 1024, (dropped) =>
      this.metrics.spoolDropped.inc(dropped),
    );
    this.publisher = new EventPublisher({
      host,
      subjects,
      spool,
      sequence: new SequenceCounter(stateDir, spool.maxSeq()),
      publishTimeoutMs: 2000,
      metrics: this.metrics,
      logger: silentLogger(),
    });
  }

  async connect(): Promise<void> {
    const config = NatsConfig.parse({ servers: [this.natsUrl], prefix: this.subjects.prefix });
    const nc = await connectNats(config, {
      name: `offhook-agent-${this.host}`,
      logger: silentLogger(),
      registry: createRegistry('agent'),
    });
    this.nc = nc;
    this.publisher.attach(jetstreamClient(nc));
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.publisher.setConnected(false);
        else if (status.type === 'reconnect') this.publisher.setConnected(true);
      }
    })();
  }

  gauge(name: string, value: number): Promise<void> {
    return this.publisher.submit({ kind: 'resource', intervalMs: 100, metrics: [{ name, type: 'gauge', value }] });
  }

  async stop(): Promise<void> {
    await this.publisher.stop();
    await this.nc?.close();
  }
}
