import { spawn } from 'node:child_process';
import * as z from 'zod';
import { alertmanagerPayload } from './alertmanager-payload.ts';
import { batchKey } from './idempotency.ts';
import { TemplateSource, templateRenderer } from './template.ts';
import { headline, oneLine, worstSeverity } from './text.ts';
import { defineNotifier, type NotificationBatch } from './types.ts';

/** sysexits EX_TEMPFAIL: the command asks to be run again later. */
export const EXIT_TEMPFAIL = 75;
const KILL_GRACE_MS = 2000;
const KEPT_OUTPUT_CHARS = 2000;
/** A templated text longer than this is cut: an environment block is limited (ARG_MAX) and shared with argv. */
const MAX_TEXT_CHARS = 16_000;

/** OFFHOOK_* variables: the headline facts for scripts that do not want to parse JSON. */
export function execEnvironment(batch: NotificationBatch): Record<string, string> {
  const first = batch.alerts[0]!;
  const key = batchKey(batch);
  // Environment strings cannot hold NUL; everything else is passed as is (no shell reads it).
  const clean = (text: string): string => oneLine(text, 1000);
  return {
    OFFHOOK_RECEIVER: batch.receiver,
    OFFHOOK_REASON: batch.reason,
    OFFHOOK_STATUS: batch.status,
    OFFHOOK_ALERT_COUNT: String(batch.alerts.length),
    OFFHOOK_SEVERITY: worstSeverity(batch.alerts),
    OFFHOOK_HOST: first.host,
    OFFHOOK_RULE: clean(first.rule),
    OFFHOOK_SUMMARY: clean(first.summary),
    OFFHOOK_FINGERPRINT: first.fingerprint,
    OFFHOOK_EXTERNAL_URL: batch.externalUrl,
    // The batch's idempotency key: the same when a resend from the pending log runs the command again.
    ...(key === undefined ? {} : { OFFHOOK_IDEMPOTENCY_KEY: key }),
    ...(batch.reason === 'fallback' ? { OFFHOOK_FALLBACK_REASON: clean(batch.fallbackReason ?? 'unspecified') } : {}),
  };
}

/**
 * Runs a command from an argument vector (never a shell) with the batch as JSON on stdin: the
 * Alertmanager v4 payload plus `reason`. For warning lamps, VFD displays and local scripts.
 * On timeout the whole process group gets SIGTERM, then SIGKILL.
 * Exit 0 = delivered; 75 (EX_TEMPFAIL) or killed = retry; any other exit = permanent failure.
 */
export const execPlugin = defineNotifier({
  kind: 'exec',
  configSchema: z.object({
    command: z
      .array(z.string().min(1))
      .min(1, { error: 'expected an argument vector, e.g. ["/usr/local/bin/lamp", "--on"]' }),
    /** Extra environment; the command otherwise sees only PATH, HOME, LANG and the OFFHOOK_* variables. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    cwd: z.string().optional(),
    /** `text`: a Liquid template (README "Templates"), passed as OFFHOOK_TEXT and as `text` in the stdin JSON. */
    templates: z.object({ text: TemplateSource.optional() }).strict().optional(),
  }),
  create(config, deps) {
    const templates = templateRenderer(
      deps.receiverName ?? 'exec',
      deps.logger,
      deps.registry,
      Object.keys(config.templates ?? {}),
    );
    // Unset: no OFFHOOK_TEXT at all, so existing scripts see exactly what they saw before.
    const textOf = (batch: NotificationBatch): string | undefined =>
      config.templates?.text === undefined
        ? undefined
        : // Environment strings cannot hold NUL; newlines stay (a display may want several lines).
          templates
            .render('text', config.templates.text, batch, () => headline(batch))
            .replaceAll('\0', '')
            .slice(0, MAX_TEXT_CHARS);
    return {
      notify(batch, signal) {
        const text = textOf(batch);
        return new Promise((resolve) => {
          const [file, ...args] = config.command as [string, ...string[]];
          const child = spawn(file, args, {
            cwd: config.cwd,
            detached: true, // own process group, so a timeout kills the command's children too
            stdio: ['pipe', 'pipe', 'pipe'],
            env: {
              PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
              ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
              ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
              ...config.env,
              ...execEnvironment(batch),
              ...(text === undefined ? {} : { OFFHOOK_TEXT: text }),
            },
          });
          let output = '';
          const keep = (chunk: Buffer): void => {
            if (output.length < KEPT_OUTPUT_CHARS)
              output += chunk.toString('utf8').slice(0, KEPT_OUTPUT_CHARS - output.length);
          };
          child.stdout.on('data', keep);
          child.stderr.on('data', keep);
          child.stdin.on('error', () => {}); // a command that does not read stdin closes it early; that is fine
          const fallback = batch.reason === 'fallback' ? { fallbackReason: batch.fallbackReason ?? 'unspecified' } : {};
          const templated = text === undefined ? {} : { text };
          child.stdin.end(
            JSON.stringify({ ...alertmanagerPayload(batch), reason: batch.reason, ...fallback, ...templated }),
          );

          let killTimer: NodeJS.Timeout | undefined;
          const killGroup = (sig: NodeJS.Signals): void => {
            try {
              if (child.pid) process.kill(-child.pid, sig);
            } catch {
              // the group is already gone
            }
          };
          const onAbort = (): void => {
            killGroup('SIGTERM');
            killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          const done = (outcome: { ok: true } | { ok: false; retry: boolean; error: string }): void => {
            signal.removeEventListener('abort', onAbort);
            if (killTimer) clearTimeout(killTimer);
            resolve(outcome);
          };
          child.on('error', (err: NodeJS.ErrnoException) =>
            done({
              ok: false,
              retry: err.code !== 'ENOENT' && err.code !== 'EACCES',
              error: `cannot run ${file}: ${err.message}`,
            }),
          );
          child.on('close', (code, sig) => {
            const said = oneLine(output, 300);
            if (signal.aborted) killGroup('SIGKILL'); // leftovers that ignored SIGTERM
            if (code === 0) return done({ ok: true });
            if (sig)
              return done({
                ok: false,
                retry: true,
                error: `${file} killed by ${sig}${signal.aborted ? ' (timeout)' : ''}${said ? `: ${said}` : ''}`,
              });
            deps.logger.debug({ code, output: said }, 'notify command failed');
            done({
              ok: false,
              retry: code === EXIT_TEMPFAIL,
              error: `${file} exited ${code}${said ? `: ${said}` : ''}`,
            });
          });
        });
      },
    };
  },
});
