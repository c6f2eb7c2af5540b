/**
 * Spoken durations in whole minutes: "less than a minute", "2 minutes", "1 hour and 5 minutes". Seconds would make
 * the sentence change on every check (and each version is rendered to speech again) for no use to the listener.
 */
export function spokenDuration(ms: number): string {
  const unit = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} and ${unit(rest, 'minute')}`;
}

export type BlindReason =
  | { kind: 'nats'; since: number }
  | { kind: 'collector'; since: number; partitions: number[]; count: number }
  | { kind: 'canary'; since: number };

function partitionList(partitions: number[]): string {
  if (partitions.length === 1) return `partition ${partitions[0]}`;
  return `partitions ${partitions.slice(0, -1).join(', ')} and ${partitions[partitions.length - 1]}`;
}

/** The sentence the on-call person hears (and the notifiers' summary): what is blind and for how long. */
export function blindSummary(reasons: readonly BlindReason[], now: number): string {
  const parts = reasons.map((reason) => {
    const how = spokenDuration(now - reason.since);
    switch (reason.kind) {
      case 'nats':
        return `the telephony gateway has not reached NATS for ${how}, so no alert can reach the phone`;
      case 'collector':
        if (reason.count === 1) return `no collector for ${how}`;
        return `no collector for ${how} on ${partitionList(reason.partitions)} of ${reason.count}`;
      default: // 'canary'
        return `no test alert came through for ${how}, so the alert path from the rules to the phone is broken`;
    }
  });
  return `offhook is blind: ${parts.join('; and ')}`;
}
