import type { Command } from 'commander';
import {
  addNatsOptions,
  connectCliNats,
  describeCliNats,
  durationMessage,
  EXIT_FAILURE,
  EXIT_USAGE,
  jetstreamClient,
  openBucket,
  readDuration,
  reportError,
  resolveCliNats,
  silentLogger,
  Subjects,
  type Alert,
  type NatsConnection,
  type NatsFlags,
} from '../shared/index.ts';
import { AlertStore, untold } from '../collector/alerts/index.ts';
import { acknowledge } from '../collector/console/actions.ts';
import { parseMatchers, type Matcher } from '../collector/silences/index.ts';
import { describeMatchers, silenceActive, silenceMatches, silenceTarget } from '../collector/silences/index.ts';
import { SilenceStore } from '../collector/silences/index.ts';

const COLLECTOR_WAIT_MS = 3000;

type ConnectionOptions = NatsFlags;

/** Reading alert or silence state needs a collector that answers: an empty list must mean "nothing fires". */
interface WithNatsOptions {
  /** Fail unless a collector answers its status request: no collector, no all clear. */
  needCollector: boolean;
  /** JSON output: the server line goes to stderr so stdout stays machine-readable. */
  json?: boolean;
}

/** Whether a collector answers its status request. */
async function collectorAnswers(nc: NatsConnection, subjects: Subjects): Promise<boolean> {
  try {
    await nc.request(subjects.statusRequest('collector'), '', { timeout: COLLECTOR_WAIT_MS });
    return true;
  } catch {
    // No responders or no answer in time both mean no collector: exactly what the caller reports.
    return false;
  }
}

/** Connects to the server the flags, NATS_URL, the --config file or the default name (shared/nats-cli.ts). */
async function withNats<T>(
  options: ConnectionOptions,
  how: WithNatsOptions,
  run: (nc: NatsConnection, subjects: Subjects) => Promise<T>,
): Promise<T> {
  const resolved = resolveCliNats(options);
  const asked = describeCliNats(resolved);
  (how.json ? process.stderr : process.stdout).write(`NATS ${asked}\n`);
  const nc = await connectCliNats(resolved, 'offhook-cli');
  try {
    const subjects = new Subjects(resolved.nats.prefix);
    if (how.needCollector && !(await collectorAnswers(nc, subjects))) {
      throw new Error(
        `no collector answered at ${asked}: its alert state cannot be trusted, so nothing is listed ` +
          '(is the collector running, on this server and prefix? --nats URL, NATS_URL or --config FILE)',
      );
    }
    // Buckets are opened, never created: a wrong server must not end up with empty offhook state that looks real.
    return await run(nc, subjects).catch((err: Error) => {
      if (/bucket not found|stream not found/i.test(err.message)) {
        throw new Error(`no offhook state at ${asked}: no collector has run against this server and prefix`);
      }
      throw err;
    });
  } finally {
    await nc.drain();
  }
}

function fail(message: string, code = EXIT_FAILURE): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = code;
}

/** A bad argument: exit code 2. */
const usage = (message: string): void => fail(message, EXIT_USAGE);
const badFor = (value: string, problem: string): string =>
  `--for: ${durationMessage(problem)}, got ${JSON.stringify(value)}`;

/** Runs an action, turning config, usage and connection problems into one readable line and their exit code. */
function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (err) {
      reportError(err);
    }
  };
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

// Operator input reaches terminals: strip control characters from anything printed.
const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

const withConnection = (command: Command): Command => addNatsOptions(command);

export function registerOperatorCommands(program: Command): void {
  withConnection(program.command('alerts').description("List alerts from the collector's KV state (firing by default)"))
    .option('--all', 'include resolved alerts')
    .option('--json', 'JSON for scripts')
    .action(
      action(async (options: ConnectionOptions & { all?: boolean; json?: boolean }) => {
        await withNats(options, { needCollector: true, json: options.json === true }, async (nc, subjects) => {
          const now = Date.now();
          const silences = await new SilenceStore(await openBucket(nc, subjects, 'silences')).list();
          const silencedBy = (alert: Alert): string | undefined =>
            silences.find((s) => silenceMatches(s, silenceTarget(alert), now))?.id;
          const records = (await new AlertStore(await openBucket(nc, subjects, 'alerts'), silentLogger()).loadAll())
            .filter((r) => options.all || r.alert.status === 'firing')
            .sort((a, b) => b.alert.startsAt - a.alert.startsAt);
          if (options.json) {
            process.stdout.write(
              `${JSON.stringify(
                records.map((r) => ({
                  ...r.alert,
                  ack: r.ack,
                  silencedBy: silencedBy(r.alert) ?? null,
                  quiet: r.quiet,
                  untold: untold(r),
                })),
                null,
                2,
              )}\n`,
            );
            return;
          }
          if (records.length === 0) {
            process.stdout.write(options.all ? 'no alerts\n' : 'nothing is firing\n');
            return;
          }
          printTable(
            ['FINGERPRINT', 'STATUS', 'SEVERITY', 'HOST', 'RULE', 'GEN', 'SINCE', 'FLAGS', 'SUMMARY'],
            records.map((r) => [
              r.alert.fingerprint,
              r.alert.status,
              r.alert.severity,
              r.alert.host,
              r.alert.rule,
              String(r.alert.generation),
              iso(r.alert.startsAt),
              [
                untold(r) ? 'not-announced' : '',
                r.alert.acknowledged ? `acked:${clean(r.ack?.by ?? '')}` : '',
                r.alert.inhibited ? 'inhibited' : '',
                silencedBy(r.alert) ? `silenced:${silencedBy(r.alert)}` : '',
              ]
                .filter(Boolean)
                .join(',') || '-',
              clean(r.alert.summary),
            ]),
          );
        });
      }),
    );

  withConnection(
    program.command('ack').description('Acknowledge a firing alert: stops re-notification until it resolves'),
  )
    .argument('<fingerprint>', 'the alert fingerprint (see `offhook alerts`)')
    .option('--by <name>', 'who takes it', process.env.USER ?? 'cli')
    .option('-c, --comment <text>', 'why / what is being done')
    .option('--for <duration>', 'let the ack expire after this long (e.g. 2h) so a festering problem calls again')
    .action(
      action(async (fp: string, options: ConnectionOptions & { by: string; comment?: string; for?: string }) => {
        if (!/^[0-9a-f]{16}$/.test(fp)) {
          return usage(`fingerprint: expected 16 hex digits, got ${JSON.stringify(fp)} (see \`offhook alerts\`)`);
        }
        const forParse = options.for === undefined ? { ok: true as const, ms: 0 } : readDuration(options.for);
        if (!forParse.ok) return usage(badFor(options.for!, forParse.problem));
        // until 0 means "until it resolves": an explicit --for 0 would silently mean forever, so it is refused.
        if (options.for !== undefined && forParse.ms <= 0) {
          return usage(badFor(options.for, 'leave --for out for an ack that lasts until the alert resolves'));
        }
        const forMs = forParse.ms;
        await withNats(options, { needCollector: false }, async (nc, subjects) => {
          // The web console's acknowledge (collector/console/actions.ts): one path for both.
          const acked = await acknowledge(
            {
              js: jetstreamClient(nc),
              subjects,
              alerts: new AlertStore(await openBucket(nc, subjects, 'alerts'), silentLogger()),
              now: Date.now,
            },
            {
              fingerprint: fp,
              by: options.by,
              comment: options.comment ?? '',
              method: 'cli',
              until: forMs > 0 ? Date.now() + forMs : 0,
            },
          );
          if (!acked.ok) {
            const reason = acked.error.replace(/^fingerprint: /, '');
            return fail(acked.status === 404 ? `no alert with fingerprint ${fp} (see \`offhook alerts\`)` : reason);
          }
          const { alert, generation } = acked.value;
          process.stdout.write(
            `acknowledged ${fp} (${alert.host} ${alert.rule}, generation ${generation}) as ${clean(options.by)}\n`,
          );
        });
      }),
    );

  const silence = program.command('silence').description('Silences: mute alerts matching labels for a while');
  const addExample = 'offhook silence add \'host=~"web.*"\' \'severity!="info"\' --for 2h -c "deploy"';
  const addDescription = `Add a silence (Alertmanager matchers, as amtool), e.g. \`${addExample}\``;
  withConnection(silence.command('add').description(addDescription))
    .argument(
      '<matchers...>',
      'label matchers: name=value, name!=value, name=~regex, name!~regex, the value bare or "quoted", or several as ' +
        '{a="1",b=~"2"} (host, rule, severity, kind and alert labels)',
    )
    .requiredOption('--for <duration>', 'how long, e.g. 30m, 2h, 1d')
    .option('--starts <time>', 'start later (ISO 8601, e.g. 2026-11-26T22:00:00Z); default now')
    .requiredOption('-c, --comment <text>', 'why (shown on the status page)')
    .option('--by <name>', 'who', process.env.USER ?? 'cli')
    .option('--json', 'print the silence as JSON')
    .action(
      action(
        async (
          texts: string[],
          options: ConnectionOptions & { for: string; starts?: string; comment: string; by: string; json?: boolean },
        ) => {
          const matchers: Matcher[] = [];
          for (const text of texts) {
            const parsed = parseMatchers(text);
            if (typeof parsed === 'string') return usage(`matcher: ${parsed}`);
            matchers.push(...parsed);
          }
          if (matchers.length === 0)
            return usage('matcher: expected at least one matcher; {} would silence everything');
          const forParse = readDuration(options.for);
          if (!forParse.ok) return usage(badFor(options.for, forParse.problem));
          if (forParse.ms <= 0) return usage(badFor(options.for, 'a silence needs a length above 0'));
          const forMs = forParse.ms;
          const now = Date.now();
          const startsAt = options.starts === undefined ? now : Date.parse(options.starts);
          if (!Number.isFinite(startsAt)) {
            const got = JSON.stringify(options.starts);
            return usage(`--starts: expected an ISO 8601 time like 2026-11-26T22:00:00Z, got ${got}`);
          }
          await withNats(options, { needCollector: true, json: options.json === true }, async (nc, subjects) => {
            const created = await new SilenceStore(await openBucket(nc, subjects, 'silences')).add({
              matchers,
              startsAt,
              endsAt: startsAt + forMs,
              createdBy: options.by,
              comment: options.comment,
              createdAt: now,
            });
            process.stdout.write(
              options.json
                ? `${JSON.stringify(created, null, 2)}\n`
                : `silence ${created.id} added: ${clean(describeMatchers(created))} until ${iso(created.endsAt)}\n`,
            );
          });
        },
      ),
    );

  withConnection(silence.command('list').description('List active and upcoming silences'))
    .option('--all', 'include expired silences')
    .option('--json', 'JSON for scripts')
    .action(
      action(async (options: ConnectionOptions & { all?: boolean; json?: boolean }) => {
        await withNats(options, { needCollector: true, json: options.json === true }, async (nc, subjects) => {
          const now = Date.now();
          const silences = (await new SilenceStore(await openBucket(nc, subjects, 'silences')).list()).filter(
            (s) => options.all || s.endsAt > now,
          );
          if (options.json) return void process.stdout.write(`${JSON.stringify(silences, null, 2)}\n`);
          if (silences.length === 0) return void process.stdout.write('no silences\n');
          printTable(
            ['ID', 'STATE', 'MATCHERS', 'ENDS', 'BY', 'COMMENT'],
            silences.map((s) => [
              s.id,
              silenceActive(s, now) ? 'active' : s.endsAt <= now ? 'expired' : 'pending',
              clean(describeMatchers(s)),
              iso(s.endsAt),
              clean(s.createdBy),
              clean(s.comment),
            ]),
          );
        });
      }),
    );

  withConnection(silence.command('expire').description('End a silence now'))
    .argument('<id>', 'silence id (see `offhook silence list`)')
    .action(
      action(async (id: string, options: ConnectionOptions) => {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
          return usage(`id: expected a silence id from \`offhook silence list\`, got ${JSON.stringify(id)}`);
        }
        await withNats(options, { needCollector: true }, async (nc, subjects) => {
          const expired = await new SilenceStore(await openBucket(nc, subjects, 'silences')).expire(id, Date.now());
          if (!expired) return fail(`no silence with id ${id} (see \`offhook silence list --all\`)`);
          process.stdout.write(`silence ${id} expired\n`);
        });
      }),
    );
}
