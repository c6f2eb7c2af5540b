import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import * as z from 'zod';
import { Duration } from '../../../shared/index.ts';

const HostPort = z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, {
  error: 'expected "host" or "host:port", e.g. "sip.example.net" or "192.0.2.10:5060"',
});

const SipUser = z
  .string()
  .regex(/^[A-Za-z0-9_.+-]{1,64}$/, { error: 'expected a SIP user name of letters, digits and _ . + -' });

/** baresip reads the account line itself: a quoted value may hold anything but a quote or a line break. */
const AccountSecret = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^"\r\n\0]*$/, {
    error: "expected a password without double quotes or line breaks (baresip's accounts file cannot carry them)",
  });

const Transport = z.enum(['udp', 'tcp', 'tls']);

/** Calls go straight to a PBX or trunk that trusts this host's address; nothing registers. */
export const DirectAccount = z
  .object({
    mode: z.literal('direct'),
    user: SipUser.default('offhook'),
    display_name: z
      .string()
      .regex(/^[^"\r\n]{0,64}$/)
      .default('offhook'),
    transport: Transport.default('udp'),
  })
  .strict();

/** The gateway registers with a registrar (a SIP trunk or a PBX extension) and authenticates by digest. */
export const RegisterAccount = z
  .object({
    mode: z.literal('register'),
    /** Where REGISTER and every call are sent: "host" or "host:port". */
    registrar: HostPort,
    user: SipUser,
    /** Digest user when it differs from `user`. */
    auth_user: SipUser.optional(),
    password: AccountSecret.optional(),
    /** A file holding the password (first line), so it need not sit in the gateway config. */
    password_file: z.string().min(1).optional(),
    /** The SIP domain of the account (the part after @); defaults to the registrar's host. */
    realm: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, { error: 'expected a domain name such as "sip.example.net"' })
      .optional(),
    transport: Transport.default('udp'),
    register_interval: Duration.default(600_000),
    display_name: z
      .string()
      .regex(/^[^"\r\n]{0,64}$/)
      .default('offhook'),
  })
  .strict()
  .refine((account) => !(account.password !== undefined && account.password_file !== undefined), {
    error: 'expected either password or password_file, not both',
    path: ['password_file'],
  });

const PortRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, { error: 'expected a port range "first-last", e.g. "10000-10100"' });

export const SipLineConfig = z
  .object({
    baresip_path: z.string().min(1).default('/usr/bin/baresip'),
    /** The IPv4 address baresip binds and puts in SDP; absent = baresip's default interface. */
    local_address: z
      .string()
      .refine((address) => isIPv4(address), {
        error: 'expected an IPv4 address such as "192.0.2.5" (baresip 1.0 takes an address, not an interface name)',
      })
      .optional(),
    /** SIP port (UDP and TCP; TLS uses the next one); 0 picks a free port at each start. */
    sip_port: z.number().int().min(0).max(65534).default(5060),
    /** RTP port range for firewalls; absent = a free range is picked at each start. */
    rtp_ports: PortRange.optional(),
    account: z.discriminatedUnion('mode', [DirectAccount, RegisterAccount], {
      error: 'expected account.mode "direct" or "register"',
    }),
    /** How a person's number becomes a SIP URI; "{number}" is replaced. Default: sip:{number}@<registrar host>. */
    dial_uri: z
      .string()
      .regex(/^sips?:[^\s"<>]*\{number\}[^\s"<>]*$/, {
        error: 'expected a SIP URI containing {number}, e.g. "sip:{number}@pbx.example.net"',
      })
      .optional(),
    codecs: z
      .array(z.enum(['pcmu', 'pcma']))
      .min(1)
      .default(['pcmu', 'pcma']),
    /** How often baresip is asked a harmless question to prove it is alive. */
    health_interval: Duration.default(5_000),
    health_timeout: Duration.default(3_000),
    restart_backoff_min: Duration.default(1_000),
    restart_backoff_max: Duration.default(60_000),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.account.mode === 'direct' && config.dial_uri === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dial_uri'],
        message:
          'expected dial_uri (e.g. "sip:{number}@pbx.example.net:5060") when account.mode is ' +
          '"direct": there is no registrar to send calls to',
      });
    }
    if (config.rtp_ports !== undefined) {
      const [first, last] = config.rtp_ports.split('-').map(Number) as [number, number];
      if (first < 1024 || last > 65535 || last - first < 2)
        ctx.addIssue({
          code: 'custom',
          path: ['rtp_ports'],
          message: 'expected a range of at least 2 ports within 1024-65535',
        });
    }
    if (config.restart_backoff_max < config.restart_backoff_min)
      ctx.addIssue({
        code: 'custom',
        path: ['restart_backoff_max'],
        message: 'expected restart_backoff_max >= restart_backoff_min',
      });
  });
export type SipLineConfig = z.infer<typeof SipLineConfig>;
export type SipLineConfigInput = z.input<typeof SipLineConfig>;
export type SipAccount = SipLineConfig['account'];

/** The URI dialled for a person's number. */
export function dialUri(config: SipLineConfig, number: string): string {
  if (config.dial_uri !== undefined) return config.dial_uri.replaceAll('{number}', number);
  if (config.account.mode !== 'register') throw new Error('sip: dial_uri is required without a registrar');
  const host = config.account.realm ?? config.account.registrar.split(':')[0];
  return `sip:${number}@${host}`;
}

/** The register account's password: inline, or the first line of `password_file`; undefined without one. */
export async function readAccountPassword(config: SipLineConfig): Promise<string | undefined> {
  const account = config.account;
  if (account.mode !== 'register') return undefined;
  if (account.password !== undefined) return account.password;
  if (account.password_file === undefined) return undefined;
  const text = await readFile(account.password_file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read account.password_file ${account.password_file}: ${err.message}`);
  });
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '' || password.includes('"'))
    throw new Error(
      `account.password_file ${account.password_file}: expected the password on the first line, without double quotes`,
    );
  return password;
}
