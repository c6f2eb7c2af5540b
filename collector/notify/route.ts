import { alertmanagerLabels, compileSafeRegex, type Alert } from '../../shared/index.ts';
import type { RouteConfig, RouteMatch, StringMatcher } from './config.ts';
import type { NotificationMetrics } from './metrics.ts';
import type { Notification, ReceiverEntry, Submission } from './stage.ts';
import { matchesAll } from '../silences/matchers.ts';
import { groupKeyOf, groupLabelsOf, type KeyMatcher, routeKey } from './aggregation.ts';
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

/** A route with what it inherited filled in (Alertmanager's route tree: children take their parent's settings). */
interface Node {
  receiver: string;
  sendResolved: boolean | undefined;
  groupBy: string[];
  wait: number;
  interval: number;
  continue: boolean;
  matches: (alert: Alert, reason: NotificationReason) => boolean;
  /** The route key: the matchers of every route from the top down to this one. */
  path: string;
  children: Node[];
}

function groupOf(node: Node, alert: Alert): NotificationGroup {
  const groupBy = node.groupBy.includes('...') ? 'all' : node.groupBy;
  const labels = groupLabelsOf(alertmanagerLabels(alert), groupBy);
  return {
    key: groupKeyOf(node.path, labels),
    labels,
    ...(node.wait > 0 ? { wait: node.wait } : {}),
    ...(node.interval > 0 ? { interval: node.interval } : {}),
  };
}

type Inherited = Pick<Node, 'receiver' | 'sendResolved' | 'groupBy' | 'wait' | 'interval'>;

function compileNode(route: RouteConfig, parent: Inherited, chain: KeyMatcher[][]): Node {
  const match = compileMatch(route.match);
  // Alertmanager's route key lists every matcher of the route, match: and matchers: alike.
  const own = [...matchersOf(route.match), ...(route.matchers ?? [])];
  const node: Inherited = {
    // config.ts refuses a top-level route without a receiver, so '' is never reached.
    receiver: route.receiver ?? parent.receiver,
    sendResolved: route.send_resolved ?? parent.sendResolved,
    groupBy: route.group_by ?? parent.groupBy,
    wait: route.group_wait ?? parent.wait,
    interval: route.group_interval ?? parent.interval,
  };
  return {
    ...node,
    continue: route.continue,
    matches: (alert, reason) =>
      match(alert, reason) && (!route.matchers || matchesAll(route.matchers, alertmanagerLabels(alert))),
    path: routeKey([...chain, own]),
    children: (route.routes ?? []).map((child) => compileNode(child, node, [...chain, own])),
  };
}

/** Alertmanager's Route.Match: the deepest matching routes under `nodes`, first match wins unless `continue`. */
function matching(nodes: Node[], alert: Alert, reason: NotificationReason): Node[] {
  const out: Node[] = [];
  for (const node of nodes) {
    if (!node.matches(alert, reason)) continue;
    const deeper = matching(node.children, alert, reason);
    out.push(...(deeper.length > 0 ? deeper : [node]));
    if (!node.continue) break;
  }
  return out;
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

/**
 * Routes in order, first match wins unless it says continue; a matching route's children are tried the same way and
 * the deepest matching routes are used (Alertmanager's tree). Each receiver at most once.
 */
export function createRouter(routes: RouteConfig[]): (alert: Alert, reason: NotificationReason) => RouteTarget[] {
  const top: Inherited = { receiver: '', sendResolved: undefined, groupBy: [], wait: 0, interval: 0 };
  const compiled = routes.map((route) => compileNode(route, top, []));
  return (alert, reason) => {
    const targets: RouteTarget[] = [];
    for (const node of matching(compiled, alert, reason))
      if (!targets.some((t) => t.receiver === node.receiver))
        targets.push({ receiver: node.receiver, sendResolved: node.sendResolved, group: groupOf(node, alert) });
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
        receiver.queue.forget(target.group, submission.alert);
        continue;
      }
      out.push({ ...submission, receiver, group: target.group });
    }
    return out;
  };
}
