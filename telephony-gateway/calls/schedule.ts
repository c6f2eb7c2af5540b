import type { Severity } from '../../shared/index.ts';
import type { Person, TimeWindow } from '../config.ts';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityAtLeast(severity: Severity, floor: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[floor];
}

export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute of the day at `now` in `timeZone`. */
export function localTime(now: number, timeZone: string): { day: (typeof WEEKDAYS)[number]; minute: number } {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(now)).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).slice(0, 3).toLowerCase() as (typeof WEEKDAYS)[number];
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function minutes(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * True when `now` falls in the window. A window that wraps midnight (22:00-07:00) belongs to the
 * day it starts on, so "fri 22:00-07:00" covers Saturday morning too.
 */
export function inWindow(window: Pick<TimeWindow, 'days' | 'from' | 'to'>, now: number, timeZone: string): boolean {
  const { day, minute } = localTime(now, timeZone);
  const from = minutes(window.from);
  const to = minutes(window.to);
  if (from === to) return window.days.includes(day);
  if (from < to) return window.days.includes(day) && minute >= from && minute < to;
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return (window.days.includes(day) && minute >= from) || (window.days.includes(yesterday) && minute < to);
}

export function isOnCall(person: Person, now: number): boolean {
  if (!person.on_call) return true;
  return person.on_call.some((window) => inWindow(window, now, person.timezone));
}

export function inQuietHours(person: Person, now: number): boolean {
  return person.quiet_hours !== undefined && inWindow(person.quiet_hours, now, person.timezone);
}

export type Eligibility = { ok: true } | { ok: false; reason: 'off_call' | 'quiet_hours' };

/** Whether this person may be phoned about an alert of this severity right now. */
export function mayCall(person: Person, severity: Severity, now: number): Eligibility {
  if (!isOnCall(person, now)) return { ok: false, reason: 'off_call' };
  if (inQuietHours(person, now) && !severityAtLeast(severity, person.quiet_hours!.allow))
    return { ok: false, reason: 'quiet_hours' };
  return { ok: true };
}
