import type { Alert, CallOutcome } from '../../shared/index.ts';
import type { GatewayConfig } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import type { Speech } from './speech.ts';
import {
  ACKED_TEXT,
  GOODBYE_TEXT,
  HELP_TEXT,
  PASSED_TEXT,
  WRONG_KEY_TEXT,
  callMessage,
  countWord,
  describeAlert,
  menuText,
  sanitizeSpeech,
} from './wording.ts';

export interface CallSettings {
  dialToneTimeoutMs: number;
  answerTimeoutMs: number;
  digitTimeoutMs: number;
  maxRepeats: number;
  maxAlertsSpoken: number;
  maxChars: number;
  /** From speech.templates.message (call-template.ts): the spoken text for these alerts, given the built-in one. */
  message?: (alerts: readonly Alert[], builtIn: string) => string;
}

export interface OutboundCall {
  number: string;
  /** Alerts known when dialling, worst first. */
  alerts: Alert[];
  /** Everything else due for this person once they answer (a storm joins the call in progress). */
  gatherMore?: () => Alert[];
  onOffHook?: () => void;
  /** Replaces the alert message (test calls). */
  messageText?: string;
  /** Alerts already named to someone in an earlier call: the message names the new ones first. */
  announcedBefore?: ReadonlySet<string>;
  /** Called once answered, with the alerts the message names (the rest are only counted). */
  onAnswered?: (named: Alert[]) => void;
}

/** New alerts first (stable: urgency order kept within each part), so a follow-up call names what changed. */
export function newFirst(alerts: Alert[], announced: ReadonlySet<string> | undefined): Alert[] {
  if (!announced || announced.size === 0) return alerts;
  const fresh = alerts.filter((a) => !announced.has(a.fingerprint));
  return [...fresh, ...alerts.filter((a) => announced.has(a.fingerprint))];
}

export interface OutboundResult {
  outcome: CallOutcome;
  digits: string;
  /** Alerts actually announced (initial plus gathered), worst first. */
  alerts: Alert[];
  offHookAt: number | null;
  answeredAt: number | null;
  error?: string;
}

type MenuChoice =
  | { kind: 'ack' | 'pass' | 'repeat' | 'help' | 'wrong'; digit: string }
  | { kind: 'silence' }
  | { kind: 'hangup' };

/** The call settings a gateway config gives (the online gateway and the offline watchdog phone alike). */
export function callSettingsFrom(config: Pick<GatewayConfig, 'line' | 'speech'>): CallSettings {
  return {
    dialToneTimeoutMs: config.line.dial_tone_timeout,
    answerTimeoutMs: config.line.answer_timeout,
    digitTimeoutMs: config.line.digit_timeout,
    maxRepeats: config.line.max_repeats,
    maxAlertsSpoken: config.speech.max_alerts_spoken,
    maxChars: config.speech.max_chars,
  };
}

/**
 * One outbound call to one person: dial, read the alerts, offer the menu (1 acknowledge, 2 next
 * person, 3 or * repeat, 0 help), and hang up. Silence counts as "not acknowledged" so an
 * answering machine never acknowledges anything.
 */
export class CallScript {
  constructor(
    private readonly driver: LineDriver,
    private readonly speech: Speech,
    private readonly settings: CallSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async run(call: OutboundCall): Promise<OutboundResult> {
    // Render while the line dials: it is the slowest step after the far end picks up.
    const initial = newFirst(call.alerts, call.announcedBefore);
    const pendingMessage = this.messageFiles(initial, call.messageText);
    // Not swallowed: it is awaited below once the call is answered; this only keeps a failure while dialling from
    // being an unhandled rejection (and the message is not needed at all if nobody answers).
    pendingMessage.catch(() => undefined);
    const placed = await this.driver.placeCall(call.number, {
      dialToneTimeoutMs: this.settings.dialToneTimeoutMs,
      answerTimeoutMs: this.settings.answerTimeoutMs,
      onOffHook: call.onOffHook,
    });
    const base = { digits: '', alerts: initial, offHookAt: placed.offHookAt, answeredAt: null };
    if (placed.outcome !== 'answered') {
      return {
        ...base,
        outcome: placed.outcome,
        ...(placed.detail && placed.outcome === 'failed' ? { error: placed.detail } : {}),
      };
    }
    const answeredAt = this.now();
    try {
      const more = call.gatherMore?.() ?? [];
      const alerts = newFirst([...initial, ...more], call.announcedBefore);
      const message = more.length > 0 ? await this.messageFiles(alerts, call.messageText) : await pendingMessage;
      call.onAnswered?.(call.messageText === undefined ? alerts.slice(0, this.settings.maxAlertsSpoken) : []);
      const { outcome, digits } = await this.conversation(message, alerts.length);
      return { ...base, alerts, answeredAt, outcome, digits };
    } catch (err) {
      return { ...base, answeredAt, outcome: 'failed', error: (err as Error).message };
    } finally {
      await this.driver.hangUp();
    }
  }

  private async conversation(message: string[], count: number): Promise<{ outcome: CallOutcome; digits: string }> {
    let digits = '';
    let silentMenus = 0;
    let playMessage = true;
    // Bounded: a far end pressing wrong keys forever must not hold the only line.
    for (let turn = 0; turn < 12; turn++) {
      const choice = await this.menu(playMessage ? message : [], count);
      playMessage = false;
      if (choice.kind === 'hangup') return { outcome: 'hung_up', digits };
      if (choice.kind === 'silence') {
        silentMenus++;
        if (silentMenus > this.settings.maxRepeats) {
          await this.say(GOODBYE_TEXT, 'goodbye');
          return { outcome: 'answered', digits };
        }
        playMessage = true;
        continue;
      }
      digits += choice.digit;
      switch (choice.kind) {
        case 'ack':
          await this.say(ACKED_TEXT, 'acked');
          return { outcome: 'acknowledged', digits };
        case 'pass':
          await this.say(PASSED_TEXT, 'passed');
          return { outcome: 'passed', digits };
        case 'repeat':
          playMessage = true;
          break;
        case 'help':
          if (await this.say(HELP_TEXT, 'help')) return { outcome: 'hung_up', digits };
          break;
        case 'wrong':
          if (await this.say(WRONG_KEY_TEXT, 'wrong-key')) return { outcome: 'hung_up', digits };
          break;
      }
    }
    await this.say(GOODBYE_TEXT, 'goodbye');
    return { outcome: 'answered', digits };
  }

  /** Plays the files then the menu, any key cutting them short, then waits for one key. */
  private async menu(files: string[], count: number): Promise<MenuChoice> {
    const menuFile = await this.speech.render(menuText(count), 'menu');
    for (const file of [...files, menuFile]) {
      const played = await this.driver.play(file, { interruptOnDigit: true });
      if (played.hungUp) return { kind: 'hangup' };
      if (played.interruptedBy) {
        // One key per menu: drop type-ahead so it cannot answer the next menu by accident.
        this.driver.flushDigits();
        return classify(played.interruptedBy);
      }
    }
    const collected = await this.driver.collect({ maxDigits: 1, timeoutMs: this.settings.digitTimeoutMs });
    if (collected.reason === 'hangup') return { kind: 'hangup' };
    if (collected.digits.length === 0) return { kind: 'silence' };
    return classify(collected.digits[0]!);
  }

  /** Plays a fixed prompt; true when the far end hung up during it. */
  private async say(text: string, name: string): Promise<boolean> {
    const played = await this.driver.play(await this.speech.render(text, name), { interruptOnDigit: false });
    return played.hungUp;
  }

  /** The alert message: one synthesised file, or recorded prompts for rules that have them. */
  private async messageFiles(alerts: Alert[], override?: string): Promise<string[]> {
    if (override !== undefined) return [await this.speech.render(override, 'message')];
    const named = alerts.slice(0, this.settings.maxAlertsSpoken);
    const recordings = await Promise.all(named.map((a) => this.speech.recordingFor(a.rule, a.severity)));
    if (recordings.every((r) => r === null)) {
      const builtIn = callMessage(alerts, this.settings);
      const { message } = this.settings;
      // Template output is sanitised like a summary: it holds alert text, and the engine must never see markup.
      const text = message ? sanitizeSpeech(message(alerts, builtIn), this.settings.maxChars) : builtIn;
      return [await this.speech.render(text, 'alert')];
    }
    const head =
      alerts.length === 1
        ? 'This is offhook with one alert.'
        : `This is offhook with ${countWord(alerts.length)} alerts.`;
    const files = [await this.speech.render(head, 'alert-count')];
    for (const [index, alert] of named.entries())
      files.push(recordings[index] ?? (await this.speech.render(describeAlert(alert), 'alert')));
    const rest = alerts.length - named.length;
    if (rest > 0) files.push(await this.speech.render(`And ${countWord(rest)} more.`, 'alert-more'));
    return files;
  }
}

function classify(digit: string): MenuChoice {
  if (digit === '1') return { kind: 'ack', digit };
  if (digit === '2') return { kind: 'pass', digit };
  if (digit === '3' || digit === '*') return { kind: 'repeat', digit };
  if (digit === '0') return { kind: 'help', digit };
  return { kind: 'wrong', digit };
}
