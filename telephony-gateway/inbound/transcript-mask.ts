import type { TranscriptEntry } from '../../native/line.ts';

/** The PIN prompt's file stem (inbound.ts renders PIN_TEXT as `enter-pin`). */
const PIN_PROMPT = /^enter-pin/;

/**
 * Masks the keys of PIN entry in the sim line's transcript before the gateway writes it anywhere: from a PIN
 * prompt until the next other prompt or on hook, every pressed key, collected digit and the key that cut the
 * prompt short becomes `x`. Stateful across calls, because the transcript is written a few entries at a time.
 */
export function pinMasker(): (entry: TranscriptEntry) => TranscriptEntry {
  let inPin = false;
  return (entry) => {
    if (entry.event === 'play') inPin = PIN_PROMPT.test(entry.file);
    else if (entry.event === 'on_hook' || entry.event === 'closed') inPin = false;
    if (!inPin) return entry;
    const hide = (keys: string): string => keys.replace(/[^#]/g, 'x');
    if (entry.event === 'press') return { ...entry, digit: hide(entry.digit) };
    if (entry.event === 'collect') return { ...entry, digits: hide(entry.digits) };
    if (entry.event === 'play' && entry.interruptedBy) return { ...entry, interruptedBy: 'x' };
    return entry;
  };
}
