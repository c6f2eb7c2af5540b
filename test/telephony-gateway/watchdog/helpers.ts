import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TranscriptEntry } from '../../../native/line.ts';
import { callMessage } from '../../../telephony-gateway/calls/wording.ts';
import type { GatewayWatchdog } from '../../../telephony-gateway/watchdog/watchdog.ts';
import type { BlindReason } from '../../../telephony-gateway/watchdog/wording.ts';
import { speechFileOf, speechStateDir, type TestGateway } from '../harness.ts';
import { makeAlert } from '../helpers.ts';

/** Short watchdog settings for tests: each check is turned on by giving its silence. */
type Silences = { nats?: string; collector?: string; canary?: string };

export function watchdogInput(silences: Silences): Record<string, unknown> {
  return {
    check_interval: '100ms',
    heartbeat_interval: '200ms',
    nats_silence: silences.nats ?? '0s',
    collector_silence: silences.collector ?? '0s',
    canary_silence: silences.canary ?? '0s',
  };
}

/** Resolves with the reasons of the next `count` watchdog checks. */
export function nextChecks(watchdog: GatewayWatchdog, count: number): Promise<Array<BlindReason[] | null>> {
  return new Promise((resolve) => {
    const seen: Array<BlindReason[] | null> = [];
    const listener = (reasons: BlindReason[] | null): void => {
      seen.push(reasons);
      if (seen.length < count) return;
      watchdog.events.off('checked', listener);
      resolve(seen);
    };
    watchdog.events.on('checked', listener);
  });
}

/** The speech file the gateway plays for a one-alert call about gw1 with this summary. */
export async function spokenFile(summary: string): Promise<string> {
  const alert = makeAlert({ host: 'gw1', severity: 'critical', summary });
  return speechFileOf(callMessage([alert], { maxAlertsSpoken: 3, maxChars: 600 }));
}

export function playedFiles(transcript: TranscriptEntry[]): string[] {
  return transcript.flatMap((e) => (e.event === 'play' ? [e.file] : []));
}

export function dialled(transcript: TranscriptEntry[]): string[] {
  return transcript.flatMap((e) => (e.event === 'dial' ? [e.number] : []));
}

interface LocalState {
  budget: { calls: unknown[] };
  watchdogGeneration: number;
}

export function localState(prefix: string): LocalState {
  return JSON.parse(readFileSync(join(speechStateDir, `local-state.${prefix}.json`), 'utf8')) as LocalState;
}

/** True once the watchdog call (fingerprint `fp`) has been acknowledged. */
export function acknowledged(gw: TestGateway, fp: string): () => boolean {
  return () => gw.finished.some((f) => f.fingerprint === fp && f.reason === 'acknowledged');
}
