import * as z from 'zod';
import { Duration, ListenAddress, Severity } from '../../shared/index.ts';

/** How a client proves it is allowed in (incoming webhook) or how we prove it to Alertmanager (silences). */
// Secrets may sit in files read at start, so they stay out of the config repository.
export const HttpAuth = z
  .object({
    bearer_token: z.string().min(8, { error: 'expected a token of at least 8 characters' }).optional(),
    bearer_token_file: z.string().min(1).optional(),
    basic: z
      .object({
        username: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[^:]*$/, { error: 'expected a user name without ":"' }),
        password: z.string().min(8, { error: 'expected at least 8 characters' }).optional(),
        password_file: z.string().min(1).optional(),
      })
      .strict()
      .refine((basic) => (basic.password === undefined) !== (basic.password_file === undefined), {
        error: 'expected exactly one of password or password_file',
      })
      .optional(),
  })
  .strict()
  .refine(
    (auth) => [auth.bearer_token, auth.bearer_token_file, auth.basic].filter((v) => v !== undefined).length === 1,
    {
      error: 'expected exactly one of bearer_token, bearer_token_file or basic',
    },
  );
export type HttpAuth = z.infer<typeof HttpAuth>;

/** Common `severity` label values → our three levels (matched case-insensitively; `severity_map` adds or overrides). */
export const DEFAULT_SEVERITY_MAP: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  emergency: 'critical',
  fatal: 'critical',
  disaster: 'critical',
  high: 'critical',
  p1: 'critical',
  error: 'warning',
  major: 'warning',
  warning: 'warning',
  warn: 'warning',
  average: 'warning',
  medium: 'warning',
  minor: 'warning',
  p2: 'warning',
  p3: 'warning',
  info: 'info',
  informational: 'info',
  notice: 'info',
  low: 'info',
  none: 'info',
  debug: 'info',
  p4: 'info',
  p5: 'info',
};

/** The `alertmanager:` section of gateway.yaml: the webhook receiver and the silences it creates on acknowledgement. */
export const AlertmanagerBridgeConfig = z
  .object({
    /** Where the webhook listens; `--webhook-listen` overrides it. Absent (and no flag) = the bridge is off. */
    listen: ListenAddress.optional(),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, { error: 'expected an URL path such as "/alertmanager"' })
      .default('/alertmanager'),
    /** Required: a phone call is a paid, loud thing, so nobody may trigger one without a secret. */
    auth: HttpAuth,
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** The first of these labels present names the host (`instance` loses its port); hosts become host tokens. */
    host_labels: z.array(z.string().min(1)).min(1).default(['host', 'hostname', 'nodename', 'instance', 'job']),
    /** Host used when no host label is present or none yields a usable host name. */
    default_host: z.string().min(1).max(128).default('alertmanager'),
    severity_label: z.string().min(1).default('severity'),
    /** Extra or overriding `severity` label values (lower case) → info|warning|critical. */
    severity_map: z.record(z.string().min(1), Severity).default({}),
    /** Severity when the label is missing or not in the map. */
    default_severity: Severity.default('warning'),
    /** A re-sent (fingerprint, status, startsAt) inside this window is dropped before the queue (dedup.ts). */
    dedup_window: Duration.default(3_600_000),
    /** Alertmanager's base URL (e.g. http://127.0.0.1:9093); when set, an acknowledgement creates a silence there. */
    alertmanager_url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as "http://127.0.0.1:9093"' })
      .optional(),
    /** Credentials for Alertmanager's API when it sits behind an authenticating proxy. */
    alertmanager_auth: HttpAuth.optional(),
    /** Longest silence an acknowledgement creates (Alertmanager sends no endsAt for firing alerts). */
    silence_max: Duration.default(4 * 3_600_000),
    silence_created_by: z.string().min(1).max(100).default('offhook'),
    request_timeout: Duration.default(10_000),
  })
  .strict();
export type AlertmanagerBridgeConfig = z.infer<typeof AlertmanagerBridgeConfig>;
