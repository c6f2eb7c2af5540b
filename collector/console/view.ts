import type { Heartbeat } from '../../shared/index.ts';
import { type AlertRecord, UNTOLD, untold } from '../alerts/index.ts';
import { acknowledger, createMute, flapDetector, inhibitor, silencer } from '../mute/index.ts';
import type { HostInfo } from '../alerts/index.ts';
import { silenceActive, silenceMatches, silenceTarget, type Silence } from '../silences/index.ts';
import type { AlertState, ConsoleAlert, ConsoleHost, ConsoleSilence } from './api-schema.ts';

const RANK = { critical: 0, warning: 1, info: 2 } as const;

/** The labels of the series a `flapping` alert stands for (it carries them plus flapping="true"). */
function seriesKey(host: string, rule: string, labels: Record<string, string>): string {
  const rest = Object.entries(labels)
    .filter(([k]) => k !== 'flapping')
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([host, rule, rest]);
}

/** Alerts as the console shows them: firing ones plus those resolved within `recentMs`, worst and oldest first. */
export function alertViews(records: Iterable<AlertRecord>, silences: Silence[], now: number, recentMs: number) {
  const list = [...records].filter((r) => r.alert.status === 'firing' || now - r.alert.endsAt < recentMs);
  const flapping = new Set(
    list
      .filter((r) => r.alert.ruleKind === 'flapping' && r.alert.status === 'firing')
      .map((r) => seriesKey(r.alert.host, r.alert.rule, r.alert.labels)),
  );
  return list
    .map((record) =>
      alertView(
        record,
        silences,
        now,
        flapping.has(seriesKey(record.alert.host, record.alert.rule, record.alert.labels)),
      ),
    )
    .sort(
      (a, b) =>
        Number(a.status === 'resolved') - Number(b.status === 'resolved') ||
        RANK[a.severity] - RANK[b.severity] ||
        a.startsAt - b.startsAt,
    );
}

export function alertView(record: AlertRecord, silences: Silence[], now: number, flapping: boolean): ConsoleAlert {
  const { alert } = record;
  const silence = silences.find((s) => silenceMatches(s, silenceTarget(alert), now)) ?? null;
  // The collector's own decision and precedence (mute/); 'repeat' is what every reason holds back.
  const mute = createMute([
    inhibitor,
    silencer(() => silence ?? undefined),
    flapDetector(() => flapping),
    acknowledger,
  ])({ alert, ack: record.ack }, now, 'repeat');
  const notTold = untold(record);
  let state: AlertState = alert.status === 'resolved' ? 'resolved' : mute.muted ? mute.reason : 'firing';
  if (state === 'firing' && alert.ruleKind === 'flapping') state = 'flapping';
  // Nobody heard of its firing (not only of a rise): whatever would mute it next, the page must say that first.
  if (notTold === UNTOLD) state = 'quiet';
  return {
    fingerprint: alert.fingerprint,
    generation: alert.generation,
    status: alert.status,
    state,
    severity: alert.severity,
    host: alert.host,
    rule: alert.rule,
    ruleKind: alert.ruleKind,
    check: alert.labels.check ?? alert.labels.log_rule ?? null,
    labels: alert.labels,
    summary: alert.summary,
    value: alert.value,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    lastChangeAt: record.updatedAt,
    lastNotifiedAt: record.lastNotifiedAt,
    untold: notTold,
    ack:
      record.ack && record.ack.generation === alert.generation
        ? { by: record.ack.by, at: record.ack.at, until: record.ack.until, comment: record.ack.comment ?? null }
        : null,
    silence: silence
      ? { id: silence.id, createdBy: silence.createdBy, comment: silence.comment, endsAt: silence.endsAt }
      : null,
  };
}

export function silenceViews(silences: Silence[], now: number, recentMs: number): ConsoleSilence[] {
  return silences
    .filter((s) => now - s.endsAt < recentMs)
    .map((s) => ({
      ...s,
      state: silenceActive(s, now)
        ? ('active' as const)
        : s.endsAt <= now
          ? ('expired' as const)
          : ('pending' as const),
    }))
    .sort((a, b) => Number(a.state === 'expired') - Number(b.state === 'expired') || b.createdAt - a.createdAt);
}

/**
 * Hosts from the heartbeats this member hears plus what its own partitions' engines know (hosts heard before it
 * started); down is the collector's judgement (a firing host_down alert), the same on every member.
 */
export function hostViews(
  heard: Map<string, Heartbeat>,
  engineHosts: Map<string, HostInfo>,
  records: Iterable<AlertRecord>,
): ConsoleHost[] {
  const down = new Set<string>();
  for (const r of records) if (r.alert.ruleKind === 'host_down' && r.alert.status === 'firing') down.add(r.alert.host);
  const names = new Set([...heard.keys(), ...engineHosts.keys()]);
  return [...names].sort().map((host) => {
    const beat = heard.get(host);
    const info = engineHosts.get(host);
    return {
      host,
      down: down.has(host),
      lastHeartbeatAt: Math.max(beat?.ts ?? 0, info?.lastHeartbeatAt ?? 0),
      agentVersion: beat?.agentVersion ?? info?.agentVersion ?? '',
      intervalMs: beat?.intervalMs ?? info?.intervalMs ?? 0,
      eventLag: beat && info ? Math.max(0, beat.seq - info.seq) : null,
      spoolDepth: beat?.spoolDepth ?? 0,
    };
  });
}
