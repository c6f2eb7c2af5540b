import * as z from 'zod';
import { CheckBase, definePlugin } from './types.ts';
import { Bytes } from '../config-types.ts';
import { pluginEnv, runPlugin } from './nagios/run-plugin.ts';
import { interpretRun } from './nagios/interpret.ts';

const Argument = z
  .string({ error: 'expected each argument as a string (quote numbers: "5")' })
  .max(4096)
  .refine((arg) => !arg.includes('\0'), { error: 'expected no NUL character in an argument' });

const NagiosConfig = CheckBase.extend({
  kind: z.literal('nagios'),
  /**
   * Argument vector, no shell: [check_disk, -w, "20%", -c, "10%", -p, /]. Bare names are looked up on PATH (which
   * includes /usr/lib/nagios/plugins).
   */
  command: z
    .array(Argument, {
      error:
        'expected command: as a list of arguments, e.g. [check_load, -w, "5,4,3", -c, "10,8,6"] (no shell is involved)',
    })
    .min(1, { error: 'expected at least the plugin to run, e.g. [check_load]' })
    .max(256)
    .refine((argv) => argv[0] !== '', { error: 'expected the plugin path or name first, got an empty string' }),
  /** Extra environment variables; the plugin otherwise gets only PATH and LANG=C, never the agent's own. */
  env: z
    .record(z.string(), Argument)
    // Checked here rather than in the key schema, whose message zod replaces with "Invalid key in record".
    .superRefine((env, ctx) => {
      for (const name of Object.keys(env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `expected an environment variable name [A-Za-z_][A-Za-z0-9_]* instead of ${JSON.stringify(name)}`,
          });
      }
    })
    .default({}),
  /** stdout+stderr beyond this kills the plugin (UNKNOWN). */
  max_output: Bytes.pipe(
    z
      .number()
      .min(1024, { error: 'expected at least 1KiB' })
      .max(16 * 1024 * 1024, { error: 'expected at most 16MiB' }),
  ).default(64 * 1024),
}).strict();

/**
 * Kill the plugin a little before the check's timeout, so the result is the plugin's UNKNOWN
 * (with what it printed) rather than the scheduler's generic "timed out" CRITICAL.
 */
function killDeadline(timeoutMs: number): number {
  return timeoutMs - Math.min(500, Math.max(5, Math.round(timeoutMs * 0.05)));
}

export default definePlugin({
  kind: 'nagios',
  description:
    'Runs a Nagios-compatible plugin (no shell, own process group, minimal env): ' +
    'exit 0/1/2/3 → ok/warning/critical/unknown, first line → message, perfdata → `nagios_*` gauges',
  configSchema: NagiosConfig,
  create(config) {
    const env = pluginEnv(config.env);
    return {
      target: config.command[0]!,
      async run({ signal, timeoutMs }) {
        const run = await runPlugin({
          command: config.command,
          env,
          deadlineMs: killDeadline(timeoutMs),
          maxOutputBytes: config.max_output,
          signal,
        });
        return interpretRun(
          {
            check: config.name,
            command: config.command,
            timeoutMs,
            maxOutputBytes: config.max_output,
            path: env.PATH!,
          },
          run,
        );
      },
    };
  },
});
