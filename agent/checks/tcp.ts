import * as z from 'zod';
import { Port } from '../../shared/index.ts';
import { CheckBase, definePlugin } from './types.ts';
import { elapsedMs, openSocket } from './probes/net.ts';

export default definePlugin({
  kind: 'tcp',
  description: 'TCP connect to host:port; latency is the time to an established connection',
  configSchema: CheckBase.extend({
    kind: z.literal('tcp'),
    host: z.string().min(1).default('127.0.0.1'),
    port: Port,
  }).strict(),
  create(config) {
    const target = `tcp://${config.host}:${config.port}`;
    return {
      target,
      async run({ signal }) {
        const start = process.hrtime.bigint();
        const socket = await openSocket({ host: config.host, port: config.port }, signal);
        const latencyMs = elapsedMs(start);
        socket.destroy();
        return { status: 'ok', message: `connected in ${latencyMs} ms`, latencyMs, target };
      },
    };
  },
});
