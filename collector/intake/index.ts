/**
 * Intake: what comes in before any rule sees it: stream feeds, durable consumers and the gate
 * (timestamps, sequence positions per epoch).
 */
export { DEFAULT_INTAKE_CONFIG, IntakeConfig, intakeLimits } from './config.ts';
export { consumeDurably, type DurableIntake } from './durable-intake.ts';
export { readStreamFrom, type StreamFeed } from './feeds.ts';
export { DEFAULT_INTAKE_LIMITS, IntakeGate, type IntakeLimits, type RejectReason } from './gate.ts';
export type { EpochPosition } from './positions.ts';
export { RejectionReport } from './report.ts';
export { storedAtMs } from './stored-at.ts';
export { SKEW_WARN_MS, StreamHead } from './stream-head.ts';
