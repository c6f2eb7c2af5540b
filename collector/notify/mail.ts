import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import * as z from 'zod';
import { Port, rfc3339 } from '../../shared/index.ts';
import { batchKey, idempotencyHeaders, messageId } from './idempotency.ts';
import { type TemplateRenderer, TemplateSource, templateRenderer } from './template.ts';
import { alertLine, alertUrl, fallbackNote, headline, oneLine } from './text.ts';
import { defineNotifier, type NotificationBatch } from './types.ts';

const Address = z
  .string()
  .min(3)
  .regex(/^[^\r\n]+$/, { error: 'expected one mail address per entry, e.g. "ops@example.com"' });

/** The plain-text body: one block per alert with everything an on-call person needs to start. */
export function mailBody(batch: NotificationBatch): string {
  const blocks = batch.alerts.map((alert) =>
    [
      alertLine(alert),
      `  host:        ${oneLine(alert.host)}`,
      `  rule:        ${oneLine(alert.rule)}`,
      `  severity:    ${alert.severity}`,
      `  started:     ${rfc3339(alert.startsAt)}`,
      ...(alert.status === 'resolved' && alert.endsAt > 0 ? [`  resolved:    ${rfc3339(alert.endsAt)}`] : []),
      ...Object.entries(alert.labels).map(([k, v]) => `  label ${k}: ${oneLine(v)}`),
      `  fingerprint: ${alert.fingerprint} (generation ${alert.generation})`,
      `  ${alertUrl(batch.externalUrl, alert)}`,
    ].join('\n'),
  );
  const why =
    batch.reason === 'fallback' ? `The gateway did not phone anyone: ${fallbackNote(batch.fallbackReason)}.\n\n` : '';
  const signature = `-- \noffhook, receiver ${batch.receiver}, reason ${batch.reason}\n`;
  return `${headline(batch)}\n\n${why}${blocks.join('\n\n')}\n\n${signature}`;
}

/**
 * SMTP with STARTTLS or implicit TLS and optional auth. Subject and body are plain text; the
 * subject is forced onto one line and nodemailer encodes headers, so no alert text can add one.
 */
export const mailPlugin = defineNotifier({
  kind: 'mail',
  configSchema: z.object({
    host: z.string().min(1),
    port: Port.default(25),
    /** Implicit TLS from the first byte (port 465). Otherwise STARTTLS is used when offered. */
    secure: z.boolean().default(false),
    /** Refuse to send unless STARTTLS succeeds. */
    require_tls: z.boolean().default(false),
    tls_verify: z.boolean().default(true),
    tls_ca_file: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** File holding the SMTP password, so it stays out of collector.yaml. */
    password_file: z.string().optional(),
    from: Address,
    to: z.union([Address, z.array(Address).min(1)]),
    subject_prefix: z
      .string()
      .regex(/^[^\r\n]*$/)
      .default('[offhook]'),
    /** Liquid templates over Alertmanager's data model (README "Templates"); unset = today's texts. */
    templates: z.object({ subject: TemplateSource.optional(), body: TemplateSource.optional() }).strict().optional(),
  }),
  create(config, deps) {
    const templates: TemplateRenderer = templateRenderer(
      deps.receiverName ?? 'mail',
      deps.logger,
      deps.registry,
      Object.keys(config.templates ?? {}),
    );
    const password = (): string | undefined =>
      config.password_file ? readFileSync(config.password_file, 'utf8').trim() : config.password;
    const transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.require_tls,
      tls: {
        rejectUnauthorized: config.tls_verify,
        ...(config.tls_ca_file ? { ca: readFileSync(config.tls_ca_file) } : {}),
      },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return {
      async notify(batch, signal) {
        try {
          const auth = config.username ? { user: config.username, pass: password() ?? '' } : undefined;
          const id = messageId(batch);
          const key = batchKey(batch);
          const sending = transport.sendMail({
            from: config.from,
            to: config.to,
            subject: oneLine(
              templates.render(
                'subject',
                config.templates?.subject,
                batch,
                () => `${config.subject_prefix} ${headline(batch)}`,
              ),
              900,
            ),
            text: templates.render('body', config.templates?.body, batch, () => mailBody(batch)),
            // A resend from the pending log has the same Message-ID, so mail clients show it once.
            ...(id ? { messageId: id } : {}),
            headers: {
              ...idempotencyHeaders(key),
              'X-Offhook-Receiver': batch.receiver,
              'X-Offhook-Reason': batch.reason,
              ...(batch.reason === 'fallback'
                ? { 'X-Offhook-Fallback-Reason': oneLine(batch.fallbackReason ?? 'unspecified', 100) }
                : {}),
            },
            ...(auth ? { auth } : {}),
          } as Parameters<typeof transport.sendMail>[0]);
          const aborted = new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
          );
          await Promise.race([sending, aborted]);
          return { ok: true };
        } catch (err) {
          const error = err as Error & { responseCode?: number; code?: string };
          // A 5xx answer (unknown user, relay denied, auth refused) will not change on retry; 4xx and network errors
          // may.
          const permanent =
            (error.responseCode !== undefined && error.responseCode >= 500) ||
            error.code === 'EAUTH' ||
            error.code === 'EENVELOPE';
          return { ok: false, retry: !permanent, error: oneLine(error.message) };
        }
      },
      async close() {
        transport.close();
      },
    };
  },
});
