import { execFileSync, spawnSync } from 'node:child_process';

/** The real MariaDB on 127.0.0.1:3306; started here when it is down (as deploy/bootstrap.sh does). */
export function ensureMariaDb(): void {
  const ping = (): boolean =>
    spawnSync('mysqladmin', ['-uroot', '-h127.0.0.1', 'ping'], { stdio: 'ignore' }).status === 0;
  if (ping()) return;
  execFileSync(
    'start-stop-daemon',
    ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd', '--', '--user=mysql'],
    { stdio: 'ignore' },
  );
  // mysqladmin --wait retries the connection itself until the server answers (bounded by the test timeout).
  const ready = spawnSync('mysqladmin', ['-uroot', '-h127.0.0.1', '--wait=20', '--connect-timeout=2', 'ping'], {
    stdio: 'ignore',
    timeout: 25_000,
  });
  if (ready.status !== 0) throw new Error('MariaDB did not come up (mysqladmin ping failed)');
}
