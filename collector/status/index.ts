/** Status: the HTTP status page / JSON API and the NATS status request reply (`offhook status`). */
export { serveStatus } from './status-reply.ts';
export { statusRoutes, type PartitionStatus, type StatusDeps } from './status.ts';
