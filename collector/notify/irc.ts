import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { Port } from '../../shared/index.ts';
import { deliverToChannel, IrcError } from './irc-client.ts';
import { TemplateSource, templateRenderer } from './template.ts';
import { alertLine, alertUrl, headline, oneLine } from './text.ts';
import { defineNotifier, type NotificationBatch } from './types.ts';

/** The lines said in the channel: headline, then one per alert up to maxLines, then how many more. */
export function ircLines(batch: NotificationBatch, maxLines: number): string[] {
  if (batch.alerts.length === 1) return [`${headline(batch)} ${alertUrl(batch.externalUrl, batch.alerts[0]!)}`];
  const shown = batch.alerts.slice(0, Math.max(1, maxLines - 2));
  const lines = [headline(batch), ...shown.map((alert) => `${alertLine(alert)} ${alertUrl(batch.externalUrl, alert)}`)];
  if (batch.alerts.length > shown.length)
    lines.push(`... and ${batch.alerts.length - shown.length} more: ${batch.externalUrl}/alerts`);
  return lines;
}

const Nick = z.string().regex(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/, {
  error: 'expected an IRC nick (letters, digits, []\\`_^{|}-, at most 30)',
});

/**
 * Says alerts in an IRC channel. The client is ours (irc-client.ts); alert text is flattened to
 * one line with every control character (CR, LF, colour, bold, CTCP \x01) removed by text.ts.
 */
export const ircPlugin = defineNotifier({
  kind: 'irc',
  configSchema: z.object({
    host: z.string().min(1),
    port: Port.default(6667),
    tls: z.boolean().default(false),
    tls_verify: z.boolean().default(true),
    nick: Nick.default('offhook'),
    username: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/)
      .default('offhook'),
    realname: z
      .string()
      .regex(/^[^\r\n\0]{1,100}$/)
      .default('offhook alert bot'),
    password_file: z.string().optional(),
    channel: z.string().regex(/^[#&+!][^\s,\x07\0]{1,49}$/, { error: 'expected a channel like "#ops"' }),
    channel_key: z
      .string()
      .regex(/^[^\s,\0]{1,23}$/)
      .optional(),
    notice: z.boolean().default(true),
    /** Lines per notification, so a storm cannot flood the channel (the rest is summarised). */
    max_lines: z.number().int().min(1).max(20).default(5),
    /** A Liquid template (README "Templates"): each non-empty output line is one IRC line, at most max_lines. */
    templates: z.object({ text: TemplateSource.optional() }).strict().optional(),
  }),
  create(config, deps) {
    const templates = templateRenderer(
      deps.receiverName ?? 'irc',
      deps.logger,
      deps.registry,
      Object.keys(config.templates ?? {}),
    );
    const linesOf = (batch: NotificationBatch): string[] => {
      const builtin = ircLines(batch, config.max_lines);
      const source = config.templates?.text;
      if (source === undefined) return builtin;
      const text = templates.render('text', source, batch, () => builtin.join('\n'));
      // Template output is operator text plus alert text: every line is flattened like the built-in ones.
      const lines = text
        .split('\n')
        .map((line) => oneLine(line))
        .filter((line) => line !== '');
      return lines.length > 0 ? lines.slice(0, config.max_lines) : builtin;
    };
    return {
      async notify(batch, signal) {
        try {
          await deliverToChannel({
            host: config.host,
            port: config.port,
            tls: config.tls,
            tlsVerify: config.tls_verify,
            nick: config.nick,
            username: config.username,
            realname: config.realname,
            password: config.password_file ? readFileSync(config.password_file, 'utf8').trim() : undefined,
            channel: config.channel,
            channelKey: config.channel_key,
            notice: config.notice,
            lines: linesOf(batch),
            signal,
          });
          return { ok: true };
        } catch (err) {
          return { ok: false, retry: err instanceof IrcError ? err.retry : true, error: (err as Error).message };
        }
      },
    };
  },
});
