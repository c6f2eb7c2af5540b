// The public face of shared/: schemas, subjects, config, NATS, metrics and logging used by two or more processes.
export * from './schemas/index.ts';
export * from './subjects.ts';
export * from './decode.ts';
export * from './inbound.ts';
export * from './config.ts';
export * from './zod-errors.ts';
export * from './nats.ts';
export * from './streams.ts';
export * from './publish.ts';
export * from './metrics.ts';
export * from './logger.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './version.ts';
export * from './nats-probe.ts';
