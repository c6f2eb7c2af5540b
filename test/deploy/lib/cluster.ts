import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NatsNode } from './nats-node.ts';
import { adaptConfig } from './nats-config.ts';
import type { TestCertificates } from './tls.ts';
import { freeTcpPort } from '../../../shared/index.ts';

/** A cluster member: its route port is fixed because the other nodes dial it; clients use an ephemeral port. */
export class ClusterNode extends NatsNode {
  constructor(
    name: string,
    readonly routePort: number,
    configFile: string,
  ) {
    super(name, configFile, ['--cluster', `nats://127.0.0.1:${routePort}`]);
  }
}

export interface Cluster {
  nodes: ClusterNode[];
  urls: string[];
  stop(): Promise<void>;
}

/**
 * Three nodes from deploy/nats/nats-cluster.conf on loopback. Route ports must be known before launch (each node
 * dials the others), so they are picked free and may be taken in the gap before nats-server binds them: a node
 * that fails to bind makes the whole attempt start again with new ports, at most three times.
 */
export async function startCluster(dir: string, certs: TestCertificates, usersConf: string): Promise<Cluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const routePorts = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
    const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`);
    // One copy of the shipped file per node, because each node needs its own JetStream store directory.
    const nodes = routePorts.map((port, i) => {
      const name = `nats${i + 1}`;
      const nodeDir = join(dir, `attempt-${attempt}`, name);
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(join(nodeDir, 'users.conf'), usersConf);
      const configFile = adaptConfig(nodeDir, 'nats-cluster.conf', {
        certs,
        storeDir: join(nodeDir, 'jetstream'),
        routes,
      });
      return new ClusterNode(name, port, configFile);
    });
    try {
      for (const node of nodes) await node.start();
      return {
        nodes,
        urls: nodes.map((n) => n.url),
        stop: async () => {
          await Promise.all(nodes.map((n) => n.kill()));
        },
      };
    } catch (err) {
      lastError = err;
      await Promise.all(nodes.map((n) => n.kill()));
      if (!nodes.some((n) => /address already in use/i.test(n.output)))
        throw new Error(`cluster did not start: ${String(err)}\n${nodes.map((n) => n.output).join('\n')}`);
    }
  }
  throw new Error(`cluster did not start after 3 attempts (route ports kept being taken): ${String(lastError)}`);
}
