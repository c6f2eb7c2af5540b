import * as z from 'zod';
import {
  type ConfigFileKind,
  Duration,
  ListenAddress,
  natsDefaultNotice,
  NatsConfig,
  Severity,
  refineUniqueNames,
} from '../shared/index.ts';
import { TemplateSource } from '../shared/liquid.ts';
import { DRIVER_NAMES, driverEntry, driverSettings } from './drivers/registry.ts';
import { AlertmanagerBridgeConfig } from './alertmanager/config.ts';
import { DEFAULT_WATCHDOG, WatchdogConfig } from './watchdog/config.ts';

/** A dialable string: digits, `*`, `#`, `+` and `,` (one-second pause), as the line accepts it. */
export const PhoneNumber = z.string().regex(/^\+?[0-9*#,]{1,32}$/, {
  error: 'expected a dial string of digits, "*", "#", "," and an optional leading "+"',
});

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day "HH:MM" (24 h)' });
const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const TimeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone such as "Europe/Berlin" or "UTC"' },
);

/** A weekly window in the person's time zone; `from` > `to` wraps past midnight. */
export const TimeWindow = z
  .object({
    days: z.array(Weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
    from: ClockTime,
    to: ClockTime,
  })
  .strict();
export type TimeWindow = z.infer<typeof TimeWindow>;

export const Person = z
  .object({
    name: z.string().min(1).max(100),
    number: PhoneNumber,
    /** PIN for calling in; callers without one cannot use the inbound menu. */
    pin: z
      .string()
      .regex(/^[0-9]{4,12}$/, { error: 'expected 4-12 digits' })
      .optional(),
    timezone: TimeZone.default('UTC'),
    /** When set, the person is only called inside these windows; absent = always on call. */
    on_call: z.array(TimeWindow).min(1).optional(),
    /** Inside quiet hours only alerts at or above `allow` reach this person. */
    quiet_hours: z
      .object({ from: ClockTime, to: ClockTime, days: TimeWindow.shape.days, allow: Severity.default('critical') })
      .strict()
      .optional(),
    /** Attempts per round for this person (overrides escalation.attempts_per_person). */
    attempts: z.number().int().min(1).max(10).optional(),
  })
  .strict();
export type Person = z.infer<typeof Person>;

export const EscalationConfig = z
  .object({
    attempts_per_person: z.number().int().min(1).max(10).default(1),
    /** Wait between two attempts on the same person (busy, no answer). */
    retry_delay: Duration.default(60_000),
    /** Wait after the last person before the next round. */
    round_delay: Duration.default(300_000),
    max_rounds: z.number().int().min(1).max(20).default(3),
    /** Alerts below this severity never ring a phone. */
    min_severity: Severity.default('warning'),
    /**
     * Extra wait after an alert arrives so a burst lands in one call (0 = dial at once; the call still gathers
     * everything pending when it is answered).
     */
    group_wait: Duration.default(0),
  })
  .strict();

const PerNumberLimits = z
  .object({
    max_calls_per_minute: z.number().int().min(0).default(1),
    max_calls_per_15m: z.number().int().min(0).default(3),
    max_calls_per_hour: z.number().int().min(0).default(5),
    max_calls_per_day: z.number().int().min(0).default(20),
  })
  .strict();

export const BudgetConfig = z
  .object({
    max_calls_per_hour: z.number().int().min(0).default(20),
    max_calls_per_day: z.number().int().min(0).default(100),
    max_call_minutes_per_day: z.number().min(0).default(120),
    /** 0 = no cost cap. */
    max_cost_per_day: z.number().min(0).default(0),
    /** Per-destination throttle (GoAlert's buckets keep a caller ID off carriers' spam lists). */
    per_number: PerNumberLimits.default(PerNumberLimits.parse({})),
    /** Estimated cost per started minute by number prefix; the longest matching prefix wins. */
    cost_per_minute: z
      .array(z.object({ prefix: z.string().regex(/^\+?[0-9]*$/), cost: z.number().min(0) }).strict())
      .default([]),
    currency: z.string().max(8).default('EUR'),
  })
  .strict();
export type BudgetConfig = z.infer<typeof BudgetConfig>;

export const LineConfig = z
  .object({
    /** Which driver runs the line: a name drivers/registry.ts lists (card = the analog line, sip = baresip). */
    driver: z.enum(DRIVER_NAMES).default('card'),
    /** Each driver's settings (drivers/registry.ts): card's backend, vpb and sim; sip's sip: section. */
    ...driverSettings(),
    dial_tone_timeout: Duration.default(5_000),
    answer_timeout: Duration.default(20_000),
    /** Wait for a key after the menu before repeating it. */
    digit_timeout: Duration.default(8_000),
    /** How often the message and menu are read when nobody presses a key. */
    max_repeats: z.number().int().min(0).max(5).default(2),
    /** Dialled before every number (e.g. "0," for an outside line). */
    dial_prefix: z
      .string()
      .regex(/^[0-9*#,]*$/)
      .default(''),
  })
  .strict()
  .superRefine((line, ctx) => {
    for (const key of driverEntry(line.driver)?.requires ?? []) {
      if (line[key as keyof typeof line] !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `expected a ${key}: section when driver is "${line.driver}"`,
      });
    }
  });
export type LineConfig = z.infer<typeof LineConfig>;

export const SpeechConfig = z
  .object({
    voice: z
      .string()
      .regex(/^[A-Za-z0-9_+-]{1,40}$/)
      .default('en'),
    words_per_minute: z.number().int().min(80).max(400).default(150),
    /** Recorded prompts named `<rule>_<warn|crit>.wav` or `<rule>.wav` replace the spoken summary. */
    recordings_dir: z.string().optional(),
    max_chars: z.number().int().min(50).max(4000).default(600),
    /** Alerts named one by one in a grouped call; the rest are counted. */
    max_alerts_spoken: z.number().int().min(1).max(20).default(3),
    /** `message`: a Liquid template for the spoken alert text (README "Spoken text template"); unset = built-in. */
    templates: z.object({ message: TemplateSource.optional() }).strict().optional(),
  })
  .strict();

export const InboundConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Wrong PINs from one caller ID before it is locked out; a person (any caller ID) after twice as many. */
    max_pin_tries: z.number().int().min(1).max(10).default(3),
    /** The first lockout; each further one in a row (no right PIN in between) lasts twice as long, at most a day. */
    lockout: Duration.default(900_000),
    /** PIN attempts per rolling hour over all callers; beyond it every caller is refused until the hour frees up. */
    max_pin_attempts_per_hour: z.number().int().min(1).max(1000).default(30),
    /** Offer a voice note after an acknowledgement. */
    voice_notes: z.boolean().default(false),
    max_voice_note: Duration.default(60_000),
  })
  .strict();

export const GatewayConfig = z
  .object({
    /** Name used in subjects and records (a host token is derived from it). */
    gateway_host: z.string().min(1).max(128).optional(),
    nats: NatsConfig,
    /** Directory for the speech cache and recorded voice notes. */
    state_dir: z.string().min(1).default('/var/lib/offhook/gateway'),
    metrics_listen: ListenAddress.default('127.0.0.1:9466'),
    /** How long a held alert message may go without `working()` before NATS redelivers it. */
    ack_wait: Duration.default(30_000),
    alerts: z
      .object({
        /**
         * How far back a freshly created gateway consumer looks: alerts fired this long before the gateway's first
         * start still ring. Older history never rings a phone. An existing consumer keeps its position.
         */
        catch_up: Duration.default(15 * 60_000),
      })
      .strict()
      .default({ catch_up: 15 * 60_000 }),
    line: LineConfig.default(LineConfig.parse({})),
    speech: SpeechConfig.default(SpeechConfig.parse({})),
    people: z.array(Person).min(1, { error: 'expected at least one person to call' }),
    escalation: EscalationConfig.default(EscalationConfig.parse({})),
    budget: BudgetConfig.default(BudgetConfig.parse({})),
    inbound: InboundConfig.default(InboundConfig.parse({})),
    /**
     * An alert firing, unacknowledged and not named to anyone this long (held by a per-number limit, the budget,
     * quiet hours, an escalation wait or a busy/dead line) goes to the fallback receivers with its reason, once.
     */
    max_unannounced: Duration.default(60_000),
    /** Phone the on-call chain when offhook itself is blind: no NATS, no collector, no canary (README, Watchdog). */
    watchdog: WatchdogConfig.default(DEFAULT_WATCHDOG),
    /**
     * Alertmanager webhook receiver (off unless `listen` or `--webhook-listen` is given); see alertmanager/README.md.
     */
    alertmanager: AlertmanagerBridgeConfig.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    refineUniqueNames(
      ctx,
      'people',
      config.people.map((person) => person.name),
      'person name',
    );
  });
export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

/** gateway.yaml as a file: people is required by the schema itself. */
export const GatewayConfigFile: ConfigFileKind<typeof GatewayConfig> = {
  schema: GatewayConfig,
  label: 'gateway',
  essentials: ['nats', 'people'],
  notices: natsDefaultNotice,
};
