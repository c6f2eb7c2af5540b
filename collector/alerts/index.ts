/**
 * Alerts: the engine (rules in, transitions out), alert records and their store, what people are told
 * (announce), checkpoints, and the commit queue that writes a record before anything is published.
 */
export { AlertRecord, cloneRecord, firingRecord, type FiringAlert } from './alert-record.ts';
export { AlertStore } from './alert-store.ts';
export { queueRepeat, reconcile, repeatDue } from './announce.ts';
export { CheckpointStore, checkpointPrefix } from './checkpoint.ts';
export { CommitQueue, type RecentNotification } from './commit-queue.ts';
export { buildRules } from './engine-rules.ts';
export type { HostInfo } from './engine-state.ts';
export { AlertEngine, type EngineOutput } from './engine.ts';
export { UNTOLD, untold } from './replay-window.ts';
export { GatewayAlerts, GatewayAlertsConfig, consumeGatewayEvents } from './gateway-alerts.ts';
