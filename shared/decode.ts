import type * as z from 'zod';
import {
  Ack,
  Alert,
  CallRecord,
  CheckResult,
  CollectorHeartbeat,
  FallbackRequest,
  GatewayEvent,
  GatewayHeartbeat,
  Heartbeat,
  LogMatch,
  MAX_PAYLOAD_BYTES,
  ResourceSample,
  SCHEMA_VERSION,
} from './schemas/index.ts';
import { acceptLogMatch } from './schemas/log-fast.ts';
import { acceptResourceSample } from './schemas/resource-fast.ts';
import { Subjects, type ParsedSubject } from './subjects.ts';
import { formatZodIssues } from './zod-errors.ts';

export type RejectReason =
  | 'unknown_subject'
  | 'too_large'
  | 'malformed_json'
  | 'forbidden_key'
  | 'unsupported_version'
  | 'schema'
  | 'subject_mismatch';

export type Decoded =
  | { type: 'resource'; subject: ParsedSubject; message: ResourceSample }
  | { type: 'check'; subject: ParsedSubject; message: CheckResult }
  | { type: 'log'; subject: ParsedSubject; message: LogMatch }
  | { type: 'heartbeat'; subject: ParsedSubject; message: Heartbeat }
  | { type: 'alert'; subject: ParsedSubject; message: Alert }
  | { type: 'ack'; subject: ParsedSubject; message: Ack }
  | { type: 'call'; subject: ParsedSubject; message: CallRecord }
  | { type: 'fallback'; subject: ParsedSubject; message: FallbackRequest }
  | { type: 'gateway'; subject: ParsedSubject; message: GatewayEvent }
  | { type: 'collector_heartbeat'; subject: ParsedSubject; message: CollectorHeartbeat }
  | { type: 'gateway_heartbeat'; subject: ParsedSubject; message: GatewayHeartbeat };

export type DecodeResult = ({ ok: true } & Decoded) | { ok: false; reason: RejectReason; detail: string };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAY_HOLD_FORBIDDEN_KEY = /__proto__|constructor|prototype|\\u/;
const defaultSubjects = new Subjects();
const decoder = new TextDecoder('utf-8', { fatal: false });

function reject(reason: RejectReason, detail: string): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}

/**
 * Validates one message received on `subject`. Never throws: every failure becomes a reasoned
 * rejection the caller counts in offhook_invalid_messages_total.
 */
export function decode(
  subject: string,
  bytes: Uint8Array | string,
  subjects: Subjects = defaultSubjects,
): DecodeResult {
  const parsedSubject = subjects.parse(subject);
  if (!parsedSubject)
    return reject('unknown_subject', `subject ${JSON.stringify(subject.slice(0, 200))} is not an offhook v1 subject`);
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MAX_PAYLOAD_BYTES) return reject('too_large', `payload is ${size} bytes, limit is ${MAX_PAYLOAD_BYTES}`);

  const type = typeOf(parsedSubject);
  const text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  let raw: unknown;
  let data: unknown;
  let sample: ResourceSample | undefined;
  if (type === 'resource') {
    // Resource samples are most of the traffic. One the fast acceptor returns as-is has only the schema's keys and
    // no label named like a prototype member (resource-fast.ts), so it holds no forbidden key and the text need not
    // be searched for one; anything else takes the general path below, with the same checks and reasons as ever.
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return reject('malformed_json', `payload is not JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    sample = acceptResourceSample(raw);
    if (sample !== undefined && sample === raw) data = sample;
    else if (MAY_HOLD_FORBIDDEN_KEY.test(text)) raw = sample = undefined; // parsed again below, with the reviver
  }
  if (data === undefined) {
    if (raw === undefined) {
      const checked = parseJson(text);
      if ('reason' in checked) return checked;
      raw = checked.raw;
      if (type === 'resource') sample = acceptResourceSample(raw);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return reject('schema', 'payload must be a JSON object');
    const version = (raw as { v?: unknown }).v;
    if (version !== SCHEMA_VERSION)
      return reject(
        'unsupported_version',
        `v: expected ${SCHEMA_VERSION}, got ${JSON.stringify(version) ?? 'nothing'}`,
      );
    // Anything the hand-written acceptors are unsure of goes to zod, which words the rejection.
    data = sample ?? (type === 'log' ? acceptLogMatch(raw) : undefined);
    if (data === undefined) {
      const result = SCHEMA_BY_TYPE[type].safeParse(raw);
      if (!result.success) return reject('schema', formatZodIssues(result.error, raw));
      data = result.data;
    }
  }
  const message = data as {
    host: string;
    kind?: string;
    severity?: string;
    fingerprint?: string;
    member?: string;
  };

  const mismatch = subjectMismatch(parsedSubject, message);
  if (mismatch) return reject('subject_mismatch', mismatch);
  return { ok: true, type, subject: parsedSubject, message } as DecodeResult;
}

/** JSON.parse, refusing a forbidden key anywhere (the rejection when the text is not JSON or holds one). */
function parseJson(text: string): { raw: unknown } | { ok: false; reason: RejectReason; detail: string } {
  let forbidden: string | undefined;
  let raw: unknown;
  try {
    // A reviver makes JSON.parse several times slower; a key can only be one of the forbidden
    // words if the text spells it out or uses a \u escape, so only such texts take the slow path.
    raw = MAY_HOLD_FORBIDDEN_KEY.test(text)
      ? JSON.parse(text, (key, value) => {
          if (FORBIDDEN_KEYS.has(key)) forbidden ??= key;
          return value;
        })
      : JSON.parse(text);
  } catch (err) {
    return reject('malformed_json', `payload is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (forbidden) return reject('forbidden_key', `payload contains the key ${JSON.stringify(forbidden)}`);
  return { raw };
}

type DecodedType = Decoded['type'];
const SCHEMA_BY_TYPE: Record<DecodedType, z.ZodType> = {
  resource: ResourceSample,
  check: CheckResult,
  log: LogMatch,
  heartbeat: Heartbeat,
  alert: Alert,
  ack: Ack,
  call: CallRecord,
  fallback: FallbackRequest,
  gateway: GatewayEvent,
  collector_heartbeat: CollectorHeartbeat,
  gateway_heartbeat: GatewayHeartbeat,
};

function typeOf(subject: ParsedSubject): DecodedType {
  return subject.type === 'event' ? subject.kind : subject.type;
}

function subjectMismatch(
  subject: ParsedSubject,
  message: { host: string; kind?: string; severity?: string; fingerprint?: string; member?: string },
): string | null {
  switch (subject.type) {
    case 'event':
    case 'heartbeat':
    case 'fallback':
    case 'gateway':
    case 'gateway_heartbeat':
      return subject.host === message.host ? null : `host: subject says ${subject.host}, payload says ${message.host}`;
    case 'alert':
      if (subject.host !== message.host) return `host: subject says ${subject.host}, payload says ${message.host}`;
      return subject.severity === message.severity
        ? null
        : `severity: subject says ${subject.severity}, payload says ${message.severity}`;
    case 'ack':
      return subject.fingerprint === message.fingerprint
        ? null
        : `fingerprint: subject says ${subject.fingerprint}, payload says ${message.fingerprint}`;
    case 'call':
      return null;
    case 'collector_heartbeat':
      if (subject.member === message.member) return null;
      return `member: subject says ${subject.member}, payload says ${message.member}`;
  }
}
