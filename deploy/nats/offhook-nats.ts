// JetStream maintenance for offhook: create the streams with the cluster's replicas, back them up, restore them.
//   deploy/nats/offhook-nats.mjs ensure-streams --replicas 3 --config /etc/offhook/admin.yaml
//   deploy/nats/offhook-nats.mjs backup  /var/backups/offhook/2026-11-25 --config /etc/offhook/admin.yaml
//   deploy/nats/offhook-nats.mjs restore /var/backups/offhook/2026-11-25 --config /etc/offhook/admin.yaml
// The config file needs only a `nats:` section (the admin user from gen-users.ts); --server for an open test server.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  addNatsOptions,
  connectionOptions,
  describeCliNats,
  ensureStreams,
  exitCodeFor,
  resolveCliNats,
  Subjects,
  type NatsFlags,
} from '../../shared/index.ts';
import { backup, restore } from './backup.ts';

type ConnectionFlags = NatsFlags;

async function withConnection<T>(
  flags: ConnectionFlags,
  run: (nc: NatsConnection, subjects: Subjects) => Promise<T>,
): Promise<T> {
  // Same precedence as the offhook operator commands: flag, NATS_URL / NATS_CREDS / ..., the --config file, default.
  const resolved = resolveCliNats(flags);
  const config = resolved.nats;
  process.stderr.write(`NATS ${describeCliNats(resolved)}\n`);
  const nc = await connect({ ...connectionOptions(config, 'offhook-nats', true), maxReconnectAttempts: 3 });
  try {
    return await run(nc, new Subjects(config.prefix));
  } finally {
    await nc.close();
  }
}

const replicasOption = (value: string): number => {
  const n = Number(value);
  if (![1, 3, 5].includes(n)) throw new Error(`--replicas: expected 1, 3 or 5, got ${JSON.stringify(value)}`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command('offhook-nats')
    .description('JetStream maintenance for offhook')
    .showHelpAfterError()
    // Set before the subcommands, which inherit it: --help exits 0, a mistyped command line 2 (as deploy/*.sh).
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  const connection = (command: Command): Command =>
    addNatsOptions(command, 'YAML file whose nats: section says how to connect (admin user)');
  connection(program.command('ensure-streams'))
    .description(
      'Create or update every offhook stream and KV bucket; on a cluster run once with --replicas 3 ' +
        'before starting offhook',
    )
    .option('--replicas <n>', 'replicas per stream (1 server, 3 cluster)', replicasOption, 1)
    .action(async (flags: ConnectionFlags & { replicas: number }) => {
      await withConnection(flags, (nc, subjects) => ensureStreams(nc, subjects, { replicas: flags.replicas }));
      process.stdout.write(`streams and buckets ensured with ${flags.replicas} replica(s)\n`);
    });
  connection(program.command('backup').argument('<dir>', 'directory to write (created)'))
    .description('Copy every offhook stream and KV bucket, with their configs, into <dir>')
    .action(async (dir: string, flags: ConnectionFlags) => {
      const manifest = await withConnection(flags, (nc, subjects) => backup(nc, subjects, dir));
      for (const s of manifest.streams)
        process.stdout.write(`${s.name}: ${s.messages} messages (seq ${s.firstSeq}-${s.lastSeq})\n`);
    });
  connection(program.command('restore').argument('<dir>', 'a directory written by backup'))
    .description('Recreate the streams and KV buckets of a backup on an empty server or cluster')
    .option('--replicas <n>', 'replicas for the restored streams (default: as backed up)', replicasOption)
    .action(async (dir: string, flags: ConnectionFlags & { replicas?: number }) => {
      const restored = await withConnection(flags, (nc) =>
        restore(nc, dir, flags.replicas ? { replicas: flags.replicas } : {}),
      );
      for (const s of restored) process.stdout.write(`${s.name}: ${s.messages} messages restored\n`);
    });
  return program;
}

/** Entry point of offhook-nats.mjs (and of `node --import tsx offhook-nats.ts`). */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (err) {
    process.stderr.write(`offhook-nats: ${(err as Error).message}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(process.argv.slice(2));
