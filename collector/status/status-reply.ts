import { hostname } from 'node:os';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { CollectorStatus, type Logger, type Subjects } from '../../shared/index.ts';
import { firing, hosts, type StatusDeps } from './status.ts';

export function collectorStatus(deps: StatusDeps): CollectorStatus {
  return CollectorStatus.parse({
    component: 'collector',
    node: hostname(),
    ts: deps.clock.now(),
    hosts: hosts(deps).map(({ host, down, lastHeartbeatAt, lastEventAt, agentVersion }) => ({
      host,
      down,
      lastHeartbeatAt,
      lastEventAt,
      agentVersion,
    })),
    firing: firing(deps).map((a) => ({
      fingerprint: a.fingerprint,
      host: a.host,
      rule: a.rule,
      severity: a.severity,
      summary: a.summary,
      startsAt: a.startsAt,
      acknowledged: a.acknowledgedBy !== null,
      silenced: a.silencedBy !== null,
      inhibited: a.inhibited,
      untold: a.untold,
    })),
    silences: deps.engine.activeSilenceList().length,
    ...(deps.partitions ? { partitions: deps.partitions() } : {}),
  });
}

/** Answers `offhook status` with the live view only the running collector has (host liveness, firing alerts). */
export function serveStatus(nc: NatsConnection, subjects: Subjects, deps: StatusDeps, logger: Logger): Subscription {
  // Every member answers: each knows the hosts and alerts of its own partitions (`offhook status` merges them).
  return nc.subscribe(subjects.statusRequest('collector'), {
    callback: (err, msg) => {
      if (err) return;
      try {
        msg.respond(JSON.stringify(collectorStatus(deps)));
      } catch (error) {
        logger.warn({ err: error }, 'cannot answer a status request');
      }
    },
  });
}
