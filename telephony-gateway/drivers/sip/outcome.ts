/** How a SIP call attempt ended, in the gateway's words (the same results the card driver gives). */
export type SipPlaceOutcome = 'answered' | 'busy' | 'no_answer' | 'failed';

/** Statuses that mean "the person is there but cannot take the call now" (RFC 3261 486, 600). */
const BUSY = new Set([486, 600]);
/** Statuses that mean "nobody picked up" (the far end's own timer, or the person unavailable). */
const NOT_ANSWERED = new Set([408, 480, 487]);

/**
 * Maps the reason baresip gives in CALL_CLOSED before the call was answered ("486 Busy Here",
 * "603 Decline", "Connection timed out", ...) to an outcome and a detail naming the SIP status.
 */
export function outcomeOfClose(reason: string): { outcome: SipPlaceOutcome; detail: string; status: number | null } {
  const match = /^([1-6]\d\d)\b\s*(.*)$/.exec(reason.trim());
  if (!match)
    return { outcome: 'failed', detail: `call ended before answer: ${reason || 'no reason given'}`, status: null };
  const status = Number(match[1]);
  const detail = `SIP ${status}${match[2] ? ` ${match[2]}` : ''}`;
  if (BUSY.has(status)) return { outcome: 'busy', detail, status };
  if (NOT_ANSWERED.has(status)) return { outcome: 'no_answer', detail, status };
  return { outcome: 'failed', detail: status === 603 ? `rejected: ${detail}` : detail, status };
}

/** The caller ID of an inbound call: the number when the URI's user part is one, else the URI; null when withheld. */
export function callerIdOf(peerUri: string | undefined): string | null {
  if (!peerUri) return null;
  const match = /^sips?:([^@;>]+)@([^;>]+)/i.exec(peerUri.trim());
  if (!match) return peerUri.trim() || null;
  const user = decodeURIComponent(match[1]!);
  if (/^anonymous$/i.test(user) || /anonymous\.invalid$/i.test(match[2]!)) return null;
  if (/^\+?[0-9*#]{1,32}$/.test(user)) return user;
  return peerUri.trim().replace(/^<|>$/g, '');
}
