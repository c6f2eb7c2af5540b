import { compileSafeRegex, type Alert } from '../../shared/index.ts';
import type { RouteConfig, RouteMatch, StringMatcher } from './config.ts';
import type { NotificationMetrics } from './metrics.ts';
import type { Notification, ReceiverEntry, Submission } from './stage.ts';
import { matchesAll } from '../silences/matchers.ts';
import { groupKeyOf, groupLabelsOf, type KeyMatcher, routeKey } from './aggregation.ts';
import { alertmanagerLabels } from './alertmanager-payload.ts';
import type { NotificationGroup, NotificationReason } from './types.ts';

export interface RouteTarget {
  receiver: string;
  /** The route's send_resolved when given, else undefined (the receiver's setting applies). */
  sendResolved: boolean | undefined;
  /** The aggregation group (Alertmanager's groupKey and group labels) the alert is in on this route. */
  group: NotificationGroup;
}

/** Fallback receivers are reached by no route: one group per receiver, like Alertmanager's root route. */
export const FALLBACK_GROUP: NotificationGroup = { key: groupKeyOf(routeKey([]), {}), labels: {} };

function keyMatcher(name: string, matcher: StringMatcher): KeyMatcher {
  if (typeof matcher === 'string') return { name, op: '=', value: matcher };
  // A list is exact values: regex characters in them are escaped so the =~ means the same.
  if (Array.isArray(matcher))
    return { name, op: '=~', value: matcher.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') };
  return { name, op: '=~', value: matcher.regex };
}

/**
 * A `match:` block as the Alertmanager matchers it stands for, for the route part of the groupKey; `reason` has no
 * Alertmanager counterpart and is left out.
 */
export function matchersOf(match: RouteMatch): KeyMatcher[] {
  const out: KeyMatcher[] = [];
  if (match.severity !== undefined) out.push(keyMatcher('severity', match.severity));
  if (match.host !== undefined) out.push(keyMatcher('host', match.host));
  if (match.rule !== undefined) out.push(keyMatcher('alertname', match.rule));
  for (const [name, matcher] of Object.entries(match.labels ?? {})) out.push(keyMatcher(name, matcher));
  return out;
}

function groupOf(route: RouteConfig, path: string, alert: Alert): NotificationGroup {
  const groupBy = route.group_by?.includes('...') ? 'all' : (route.group_by ?? []);
  const labels = groupLabelsOf(alertmanagerLabels(alert), groupBy);
  return {
    key: groupKeyOf(path, labels),
    labels,
    ...(route.group_wait > 0 ? { wait: route.group_wait } : {}),
    ...(route.group_interval > 0 ? { interval: route.group_interval } : {}),
  };
}

type Test = (value: string | undefined) => boolean;

function compileMatcher(matcher: StringMatcher): Test {
  if (typeof matcher === 'string') return (value) => value === matcher;
  if (Array.isArray(matcher)) return (value) => value !== undefined && matcher.includes(value);
  // Anchored like Alertmanager's =~ so "web" does not match "webmail".
  const re = compileSafeRegex(`^(?:${matcher.regex})$`, '', 'routes match regex');
  return (value) => value !== undefined && re.test(value);
}

function oneOf<T>(expected: T | T[] | undefined): ((value: T) => boolean) | null {
  if (expected === undefined) return null;
  const list = Array.isArray(expected) ? expected : [expected];
  return (value) => list.includes(value);
}

export type CompiledMatch = (alert: Alert, reason: NotificationReason) => boolean;

export function compileMatch(match: RouteMatch): CompiledMatch {
  const severity = oneOf(match.severity);
  const reason = oneOf(match.reason);
  const host = match.host === undefined ? null : compileMatcher(match.host);
  const rule = match.rule === undefined ? null : compileMatcher(match.rule);
  const labels = Object.entries(match.labels ?? {}).map(([name, matcher]) => [name, compileMatcher(matcher)] as const);
  return (alert, why) =>
    (!severity || severity(alert.severity)) &&
    (!reason || reason(why)) &&
    (!host || host(alert.host)) &&
    (!rule || rule(alert.rule)) &&
    labels.every(([name, test]) => test(Object.hasOwn(alert.labels, name) ? alert.labels[name] : undefined));
}

/** Routes in order, first match wins unless it says continue; each receiver at most once. */
export function createRouter(routes: RouteConfig[]): (alert: Alert, reason: NotificationReason) => RouteTarget[] {
  const compiled = routes.map((route) => ({
    route,
    matches: compileMatch(route.match),
    // Alertmanager's route key lists every matcher of the route, match: and matchers: alike.
    path: routeKey([[...matchersOf(route.match), ...(route.matchers ?? [])]]),
  }));
  return (alert, reason) => {
    const targets: RouteTarget[] = [];
    for (const { route, matches, path } of compiled) {
      if (!matches(alert, reason)) continue;
      if (route.matchers && !matchesAll(route.matchers, alertmanagerLabels(alert))) continue;
      if (!targets.some((t) => t.receiver === route.receiver))
        targets.push({
          receiver: route.receiver,
          sendResolved: route.send_resolved,
          group: groupOf(route, path, alert),
        });
      if (!route.continue) break;
    }
    return targets;
  };
}

/**
 * Route: a submission becomes one notification per receiver its routes name. A fallback goes to the fallback
 * receivers; a resolve also to fallback receivers (the dedup stage sends it only where the firing was told), and
 * only where send_resolved (the route's, else the receiver's) says so. An unknown receiver is counted and skipped.
 */
export function routeStage(parts: {
  route: (alert: Alert, reason: NotificationReason) => RouteTarget[];
  fallbackReceivers: readonly string[];
  receivers: ReadonlyMap<string, ReceiverEntry>;
  metrics: NotificationMetrics;
}): (submission: Submission) => Notification[] {
  const targets = ({ alert, reason }: Submission): RouteTarget[] => {
    if (reason === 'fallback')
      return parts.fallbackReceivers.map((receiver) => ({ receiver, sendResolved: true, group: FALLBACK_GROUP }));
    const routed = parts.route(alert, reason);
    if (reason === 'resolved')
      for (const receiver of parts.fallbackReceivers)
        if (!routed.some((t) => t.receiver === receiver))
          routed.push({ receiver, sendResolved: true, group: FALLBACK_GROUP });
    return routed;
  };
  return (submission) => {
    const out: Notification[] = [];
    for (const target of targets(submission)) {
      const receiver = parts.receivers.get(target.receiver);
      if (!receiver) {
        parts.metrics.dropped.inc({ receiver: target.receiver, reason: 'unknown_receiver' });
        continue;
      }
      if (submission.reason === 'resolved' && !(target.sendResolved ?? receiver.config.send_resolved)) {
        // Not told, but no longer part of its group's later notifications (Alertmanager drops it there too).
        receiver.queue.intervals.forget(target.group, submission.alert.fingerprint);
        continue;
      }
      out.push({ ...submission, receiver, group: target.group });
    }
    return out;
  };
}
