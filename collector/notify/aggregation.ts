/**
 * Alertmanager's aggregation groups (dispatch/dispatch.go aggrGroup + notify.go DedupStage.needsUpdate), pure: alerts
 * and the time go in, group notifications come out; the caller owns the timer (`nextDueAt`) so tests need no clock.
 * Semantics kept from Alertmanager 0.25:
 * - an alert joins the group named by its route and the values of the route's group_by labels (`all` = every label);
 * - a new group waits group_wait before its first flush, unless the alert started group_wait ago already (then at
 *   once); every flush after that is group_interval after the previous one, whether or not it sent anything;
 * - a flush sends all alerts of the group in one notification when a firing alert is new to the receiver, when
 *   every alert resolved (and the receiver was told of some firing), when a resolved alert is new and send_resolved,
 *   or when repeat_interval passed since the last notification; otherwise it sends nothing;
 * - resolved alerts leave the group after the flush that saw them; what the receiver was told is kept per groupKey,
 *   so a group that empties and fills again is compared with the last notification, as Alertmanager's nflog does.
 */

import { goQuote } from './go-quote.ts';

export interface GroupOptions {
  /** Label names, or 'all' for Alertmanager's `group_by: ['...']`. */
  groupBy: readonly string[] | 'all';
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  sendResolved: boolean;
}

export interface GroupedAlert {
  fingerprint: string;
  labels: Readonly<Record<string, string>>;
  resolved: boolean;
  /** ms since the epoch. */
  startsAt: number;
}

export interface GroupNotification<A extends GroupedAlert> {
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  status: 'firing' | 'resolved';
  /**
   * Sorted as Alertmanager sorts them (job, instance, then all labels); resolved ones left out without send_resolved.
   */
  alerts: A[];
}

/** Alertmanager quotes label and matcher values with Go's strconv.Quote, not as JSON. */
const quote = goQuote;

/** Prometheus' LabelSet.String(): `{a="1", b="2"}`, names sorted. */
export function labelSetString(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((name) => `${name}=${quote(labels[name]!)}`).join(', ')}}`;
}

/** One route matcher as Alertmanager prints it: name, operator, quoted value. */
export interface KeyMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/**
 * A route's key: its parent's key, "/", then its matchers `{a="1",b=~"x"}` (sorted by name, no space after the comma);
 * the root route's key is `{}`. `chain` is the matchers of each route from the root's child down to this route.
 */
export function routeKey(chain: readonly (readonly KeyMatcher[])[]): string {
  const one = (matchers: readonly KeyMatcher[]): string =>
    `{${[...matchers]
      .sort((a, b) => (a.name === b.name ? (a.value < b.value ? -1 : 1) : a.name < b.name ? -1 : 1))
      .map((m) => `${m.name}${m.op}${quote(m.value)}`)
      .join(',')}}`;
  return ['{}', ...chain.map(one)].join('/');
}

/** Alertmanager's groupKey: `<route key>:<group labels>`, e.g. `{}/{severity="page"}:{alertname="DiskFull"}`. */
export const groupKeyOf = (route: string, groupLabels: Readonly<Record<string, string>>): string =>
  `${route}:${labelSetString(groupLabels)}`;

export function groupLabelsOf(labels: Readonly<Record<string, string>>, groupBy: GroupOptions['groupBy']) {
  if (groupBy === 'all') return { ...labels };
  return Object.fromEntries(groupBy.filter((name) => labels[name] !== undefined).map((name) => [name, labels[name]!]));
}

function labelsBefore(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): number {
  const x = labelSetString(a);
  const y = labelSetString(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** types.AlertSlice's order: by job, then instance (an alert with the label first), then the whole label set. */
export function compareAlerts(a: GroupedAlert, b: GroupedAlert): number {
  for (const key of ['job', 'instance']) {
    const x = a.labels[key];
    const y = b.labels[key];
    if (x === undefined && y === undefined) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return labelsBefore(a.labels, b.labels);
}

interface LogEntry {
  firing: ReadonlySet<string>;
  resolved: ReadonlySet<string>;
  at: number;
}

function needsUpdate(entry: LogEntry | undefined, firing: string[], resolved: string[], o: GroupOptions, now: number) {
  if (!entry) return firing.length > 0;
  if (!firing.every((fp) => entry.firing.has(fp))) return true;
  // Told even without send_resolved, so the receiver's firing set is cleared (as Alertmanager does).
  if (firing.length === 0) return entry.firing.size > 0;
  if (o.sendResolved && !resolved.every((fp) => entry.resolved.has(fp))) return true;
  return entry.at <= now - o.repeatInterval;
}

interface Group<A extends GroupedAlert> {
  key: string;
  receiver: string;
  labels: Record<string, string>;
  options: GroupOptions;
  alerts: Map<string, A>;
  flushed: boolean;
  dueAt: number;
}

export class Aggregator<A extends GroupedAlert> {
  private readonly groups = new Map<string, Group<A>>();
  /** What each receiver was last told, per groupKey (Alertmanager's notification log). */
  private readonly log = new Map<string, LogEntry>();

  /** Adds (or updates, by fingerprint) an alert in the group of `route` for `receiver`; returns the groupKey. */
  insert(alert: A, receiver: string, route: string, options: GroupOptions, now: number): string {
    const labels = groupLabelsOf(alert.labels, options.groupBy);
    const key = `${receiver}\u0000${groupKeyOf(route, labels)}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { key, receiver, labels, options, alerts: new Map(), flushed: false, dueAt: now + options.groupWait };
      this.groups.set(key, group);
    }
    group.alerts.set(alert.fingerprint, alert);
    if (!group.flushed && alert.startsAt + options.groupWait < now) group.dueAt = Math.min(group.dueAt, now);
    return groupKeyOf(route, labels);
  }

  /** When the next flush is due (ms), or undefined when no group exists; arm one timer for it. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) if (next === undefined || group.dueAt < next) next = group.dueAt;
    return next;
  }

  /** Flushes every group due at `now`, in the order they fell due; empty groups are dropped. */
  flush(now: number): GroupNotification<A>[] {
    const due = [...this.groups.values()].filter((g) => g.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    const out: GroupNotification<A>[] = [];
    for (const group of due) {
      const sent = this.flushOne(group, now);
      if (sent) out.push(sent);
    }
    return out;
  }

  private flushOne(group: Group<A>, now: number): GroupNotification<A> | undefined {
    group.flushed = true;
    group.dueAt = now + group.options.groupInterval;
    const all = [...group.alerts.values()].sort(compareAlerts);
    const firing = all.filter((a) => !a.resolved).map((a) => a.fingerprint);
    const resolved = all.filter((a) => a.resolved).map((a) => a.fingerprint);
    for (const fp of resolved) group.alerts.delete(fp);
    if (group.alerts.size === 0) this.groups.delete(group.key);
    const logKey = group.key;
    if (!needsUpdate(this.log.get(logKey), firing, resolved, group.options, now)) return undefined;
    this.log.set(logKey, { firing: new Set(firing), resolved: new Set(resolved), at: now });
    const alerts = group.options.sendResolved ? all : all.filter((a) => !a.resolved);
    if (alerts.length === 0) return undefined;
    return {
      groupKey: group.key.slice(group.key.indexOf('\u0000') + 1),
      receiver: group.receiver,
      groupLabels: group.labels,
      status: alerts.some((a) => !a.resolved) ? 'firing' : 'resolved',
      alerts,
    };
  }
}
