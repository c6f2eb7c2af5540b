import { BUCKETS, bucketName, hostToken, streamNames, type Subjects, type BucketName } from '../../shared/index.ts';

/**
 * What each offhook role may publish and subscribe to, derived from the same Subjects/stream/bucket names the
 * processes use, so a renamed stream or a different prefix can never leave the server config behind.
 * The JetStream API subjects were read off a nats-server 2.9.10 trace of the real client calls
 * (ensureStreams, ordered consumers, durable pull consumers, KV get/put/keys/watch); deploy/nats/README.md lists them.
 */
export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** May answer requests it received (nats-server `allow_responses`), whatever the reply subject. */
  allowResponses?: boolean;
}

export type Role = 'collector' | 'gateway' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['collector', 'gateway', 'operator', 'admin'];

const JS_INFO = '$JS.API.INFO';

/** Reply-subject prefix an agent must use (`nats.inbox_prefix` in agent.yaml); it is all an agent may subscribe to. */
export function agentInboxPrefix(host: string): string {
  return `_INBOX_${hostToken(host)}`;
}

export function agentUserName(host: string): string {
  return `agent-${hostToken(host)}`;
}

/** Create or update a stream (ensureStreams runs at every collector and gateway start). */
function manageStream(stream: string): string[] {
  return [`$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.UPDATE.${stream}`, `$JS.API.STREAM.INFO.${stream}`];
}

/** Read a stream through consumers (ordered or durable) and fetch single messages; no delete, no purge. */
function readStream(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    // 2.9 clients use CREATE.<stream>.<name>[.<filter>]; older ones CREATE.<stream> and DURABLE.CREATE.
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    // ack, nak, working (+WPI) and term replies, and flow-control replies of push consumers
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

function kvStream(subjects: Subjects, bucket: BucketName): string {
  return `KV_${bucketName(subjects, bucket)}`;
}
function readBucket(subjects: Subjects, bucket: BucketName): string[] {
  return readStream(kvStream(subjects, bucket));
}
function writeBucket(subjects: Subjects, bucket: BucketName): string[] {
  return [...readBucket(subjects, bucket), `$KV.${bucketName(subjects, bucket)}.>`];
}

/** Every stream and bucket ensureStreams creates: the collector and the gateway both call it at start. */
function manageAll(subjects: Subjects): string[] {
  const names = streamNames(subjects);
  const buckets = (Object.keys(BUCKETS) as BucketName[]).map((bucket) => kvStream(subjects, bucket));
  return [JS_INFO, ...[...Object.values(names), ...buckets].flatMap(manageStream)];
}

const unique = (list: string[]): string[] => [...new Set(list)];

/**
 * An agent publishes only its own events (JetStream publish = a request on the event subject; the PubAck comes back
 * on its own inbox) and its own heartbeat. No $JS.API at all: it cannot create, read, delete or consume anything.
 */
export function agentPermissions(subjects: Subjects, host: string): Permissions {
  const token = hostToken(host);
  return {
    publish: [`${subjects.root}.events.${token}.>`, subjects.heartbeat(token)],
    subscribe: [`${agentInboxPrefix(host)}.>`],
  };
}

export function rolePermissions(subjects: Subjects, role: Role): Permissions {
  const names = streamNames(subjects);
  const root = subjects.root;
  // Requests to a running gateway (telephony-gateway/line/control.ts): <root>.gatewayctl.<gateway host>.<action>
  const gatewayControl = `${root}.gatewayctl.*.*`;
  switch (role) {
    case 'collector':
      return {
        publish: unique([
          subjects.allAlerts,
          // acknowledgements made on the collector's status page / HTTP API
          subjects.allAcks,
          ...manageAll(subjects),
          ...readStream(names.events),
          ...readStream(names.alerts),
          ...readStream(names.acks),
          ...readStream(names.calls),
          // the gateway's fallback requests, through the shared durable offhook-collector-fallback
          ...readStream(names.gateway),
          ...writeBucket(subjects, 'alerts'),
          ...writeBucket(subjects, 'silences'),
          ...writeBucket(subjects, 'nflog'),
          ...writeBucket(subjects, 'checkpoints'),
          ...readBucket(subjects, 'gateway'),
          // its watchdog heartbeat for the gateway (core NATS); the canary goes out on ALERTS like any alert
          subjects.allCollectorHeartbeats,
          // the web console's phone panel: each gateway's status, and the voice notes it keeps
          subjects.statusRequest('gateway'),
          `${root}.gatewayctl.*.voice_note`,
        ]),
        // `offhook status` asks the running collector (queue group) for its live view; gateway heartbeats:
        // gateway_silent
        subscribe: [
          '_INBOX.>',
          subjects.allHeartbeats,
          subjects.allAcks,
          subjects.statusRequest('collector'),
          subjects.allGatewayHeartbeats,
        ],
        allowResponses: true,
      };
    case 'gateway':
      return {
        publish: unique([
          // `offhook test-call` runs on the gateway host with the gateway's credentials and asks the running gateway
          gatewayControl,
          subjects.allAcks,
          subjects.allCalls,
          // the Alertmanager bridge (telephony-gateway/alertmanager) publishes bridged alerts (ruleKind external) to
          // ALERTS
          subjects.allAlerts,
          // into the GATEWAY stream (JetStream publish), where the collector finds them even if it was down
          subjects.allFallbacks,
          subjects.allGatewayEvents,
          ...manageAll(subjects),
          ...readStream(names.alerts),
          ...readStream(names.acks),
          ...readStream(names.calls),
          ...writeBucket(subjects, 'gateway'),
          ...readBucket(subjects, 'alerts'),
          ...readBucket(subjects, 'silences'),
          // its heartbeat for the collector's gateway_silent (core NATS)
          subjects.allGatewayHeartbeats,
        ]),
        // collector heartbeats: the watchdog phones when no collector covers a partition
        subscribe: [
          '_INBOX.>',
          subjects.allAcks,
          gatewayControl,
          subjects.statusRequest('gateway'),
          subjects.allCollectorHeartbeats,
        ],
        allowResponses: true,
      };
    case 'operator':
      // The `offhook` CLI on an operator's machine: acknowledge, silence, look at state. Cannot create or delete
      // streams.
      return {
        publish: unique([
          subjects.allAcks,
          gatewayControl,
          subjects.statusRequest('collector'),
          subjects.statusRequest('gateway'),
          JS_INFO,
          '$JS.API.STREAM.NAMES',
          '$JS.API.STREAM.LIST',
          ...Object.values(names).flatMap(readStream),
          ...(Object.keys(BUCKETS) as BucketName[])
            .filter((b) => b !== 'silences')
            .flatMap((b) => readBucket(subjects, b)),
          ...writeBucket(subjects, 'silences'),
        ]),
        subscribe: ['_INBOX.>', subjects.allHeartbeats, subjects.allAlerts, subjects.allAcks, subjects.allCalls],
      };
    case 'admin':
      // Backup/restore (deploy/nats/backup.ts) and maintenance: everything inside the offhook subject space and
      // JetStream.
      return {
        publish: ['$JS.API.>', '$JS.ACK.>', '$JS.FC.>', '$KV.>', `${root}.>`],
        subscribe: ['_INBOX.>', `${root}.>`],
      };
  }
}
