import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as z from 'zod';
import { Port, compileSafeRegex, RegexSource } from '../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from './types.ts';
import { elapsedMs } from './probes/net.ts';

const RecordType = z.enum(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA']);

/** Renders any answer record as text so one `expect` regex works for every type. */
function answerText(answer: unknown): string {
  if (typeof answer === 'string') return answer;
  if (Array.isArray(answer)) return answer.join('');
  if (answer && typeof answer === 'object') {
    const record = answer as Record<string, unknown>;
    if ('exchange' in record) return `${record.priority} ${record.exchange}`;
    if ('nsname' in record) return `${record.nsname} ${record.hostmaster} ${record.serial}`;
    if ('name' in record && 'port' in record)
      return `${record.priority} ${record.weight} ${record.port} ${record.name}`;
    return JSON.stringify(record);
  }
  return String(answer);
}

export default definePlugin({
  kind: 'dns',
  description:
    'DNS: asks `server` for `query`/`record` (UDP, TCP on truncation) and expects an answer, ' +
    'optionally matching a regex',
  configSchema: CheckBase.extend({
    kind: z.literal('dns'),
    server: z
      .string()
      .refine((s) => isIP(s) !== 0, { error: 'expected an IP address of the DNS server' })
      .default('127.0.0.1'),
    port: Port.default(53),
    query: z.string().min(1).max(253),
    record: RecordType.default('A'),
    /** At least one answer must match (e.g. "^192\\.0\\.2\\.1$"). */
    expect: RegexSource.optional(),
  }).strict(),
  create(config) {
    const expect = config.expect ? compileSafeRegex(config.expect, '', 'expect') : null;
    const server = isIP(config.server) === 6 ? `[${config.server}]:${config.port}` : `${config.server}:${config.port}`;
    const target = `dns://${server}/${config.query}?${config.record}`;
    return {
      target,
      async run({ signal, timeoutMs }): Promise<CheckOutcome> {
        const resolver = new Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
        resolver.setServers([server]);
        signal.addEventListener('abort', () => resolver.cancel(), { once: true });
        const start = process.hrtime.bigint();
        let answers: string[];
        try {
          answers = ((await resolver.resolve(config.query, config.record)) as unknown[]).map(answerText);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          const latencyMs = code === 'ENODATA' || code === 'ENOTFOUND' ? elapsedMs(start) : null;
          return {
            status: 'critical',
            message: `no ${config.record} answer for ${config.query}: ${code || (err as Error).message}`,
            latencyMs,
            target,
          };
        }
        const latencyMs = elapsedMs(start);
        const metrics = [{ name: 'probe_dns_answer_rrs', type: 'gauge' as const, value: answers.length }];
        const shown = answers.slice(0, 5).join(', ');
        if (expect && !answers.some((a) => expect.test(a))) {
          return {
            status: 'critical',
            message: `answers [${shown}] do not match /${config.expect}/`,
            latencyMs,
            target,
            metrics,
          };
        }
        return { status: 'ok', message: `${config.record} ${config.query}: ${shown}`, latencyMs, target, metrics };
      },
    };
  },
});
