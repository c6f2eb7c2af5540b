import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { CredentialStore } from '../deploy/nats/credentials.ts';
import { generateUsers } from '../deploy/nats/gen-users.ts';
import { killAndWait } from '../deploy/lib/processes.ts';
import { connectionOptions, ensureStreams, NatsConfig, Subjects } from '../shared/index.ts';
import { startCluster } from '../test/deploy/lib/cluster.ts';
import { makeTestCertificates } from '../test/deploy/lib/tls.ts';
import { converged, failover, LEASE_TIMEOUT, type Member, startMember } from './group-members.ts';

/**
 * Failover on the shipped three-node cluster config (TLS, nkeys, R3 streams and KV, the test harness's nodes):
 * three members with the default lease_timeout; each sample kills one member with -9 and times its partition's
 * next alert on ALERTS, then starts it again and lets the group settle before the next sample.
 */
export async function clusterFailover(dir: string, samples: number): Promise<number[]> {
  const certs = makeTestCertificates(join(dir, 'tls'));
  const generated = generateUsers({ hosts: [], prefix: 'offhook', auth: 'nkey', secretsDir: join(dir, 'creds') });
  const credentials = new CredentialStore(join(dir, 'creds'), 'nkey');
  const cluster = await startCluster(dir, certs, generated.text);
  const members = new Map<string, Member>();
  const raw = (user: string) => ({
    servers: cluster.urls,
    nkey_seed_file: credentials.path(user),
    tls: { ca_file: certs.ca },
    stream_replicas: 3,
  });
  const nc = await connect(connectionOptions(NatsConfig.parse(raw('admin')), 'bench-admin', true));
  try {
    for (let tries = 0; ; tries++) {
      try {
        await ensureStreams(nc, new Subjects('offhook'), { replicas: 3 });
        break;
      } catch (err) {
        // No JetStream meta leader yet: the cluster is still forming.
        if (tries > 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const block = JSON.stringify(raw('collector'));
    const start = async (name: string): Promise<Member> => {
      const member = await startMember(dir, '', 'offhook', name, LEASE_TIMEOUT, block);
      members.set(name, member);
      return member;
    };
    const names = ['m1', 'm2', 'm3'];
    for (const name of names) await start(name);
    const results: number[] = [];
    for (let i = 0; i < samples; i++) {
      const held = await converged(nc, 'offhook', names);
      const victim = names[i % names.length]!;
      const order = [...names.filter((n) => n !== victim), victim].map((n) => members.get(n)!);
      const down = await failover(nc, 'offhook', order, held, `c${i}-`);
      results.push(down.ms);
      await start(victim);
    }
    return results;
  } finally {
    for (const member of members.values())
      if (member.child.exitCode === null && member.child.signalCode === null)
        await killAndWait(member.child, 'SIGKILL');
    await nc.close();
    await cluster.stop();
  }
}
