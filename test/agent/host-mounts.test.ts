import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Prints the sampler's filesystem points as JSON, run inside a private mount namespace where `hidden` is unmounted:
 * what systemd's ProtectHome= or a private /tmp does to an agent's own view of the host's filesystems.
 */
type Filesystem = { mountpoint: string; size: number };
async function sampleInNamespace(hidden: string, hostRoot: string | undefined): Promise<Filesystem[]> {
  const sampler = JSON.stringify(new URL('../../agent/resources/sampler.ts', import.meta.url).href);
  const options = JSON.stringify({ processes: false, ...(hostRoot ? { rootfs: hostRoot } : {}) });
  const script = `
    const { ResourceSampler } = await import(${sampler});
    const points = await new ResourceSampler(${options}).sample();
    const sizes = points.filter((p) => p.name === 'node_filesystem_size_bytes')
      .map((p) => ({ mountpoint: p.labels.mountpoint, size: p.value }));
    process.stdout.write(JSON.stringify(sizes));`;
  // With hostRoot: the host's / is bind-mounted there first (as a container gets it at /host), then `hidden` goes.
  const { stdout } = await execFileAsync('unshare', [
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    '{ [ -z "$3" ] || mount --rbind / "$3"; } && umount "$1" && exec node --import tsx --input-type=module -e "$2"',
    'sh',
    hidden,
    script,
    hostRoot ?? '',
  ]);
  return JSON.parse(stdout) as Filesystem[];
}

describe("agent filesystems under a sandbox: the host's mount table, statfs under rootfs", function () {
  this.timeout(60_000);
  let dir: string;
  let disk: string;
  before(function () {
    try {
      execFileSync('unshare', ['--mount', 'true'], { stdio: 'ignore' });
    } catch {
      this.skip(); // needs root (CAP_SYS_ADMIN) to make a mount namespace and a tmpfs; the sampler is covered elsewhere
    }
    dir = mkdtempSync(join(tmpdir(), 'offhook-mounts-'));
    disk = join(dir, 'home');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'offhook-test', disk]);
    // Without rootfs the agent statfs()es the directory the mount hid: the filesystem of /tmp, never 8 MiB.
  });
  after(() => {
    if (!dir) return;
    execFileSync('umount', [disk]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists a filesystem the agent's own namespace hides, from /proc/1/mounts", async () => {
    const seen = await sampleInNamespace(disk, undefined);
    const mountpoints = seen.map((m) => m.mountpoint);
    assert.ok(mountpoints.includes(disk), `${disk} missing from ${mountpoints.join(' ')}`);
  });

  it("with rootfs (the host's / mounted elsewhere), measures it as the host sees it", async () => {
    const hostRoot = join(dir, 'host');
    mkdirSync(hostRoot);
    const seen = await sampleInNamespace(disk, hostRoot);
    assert.equal(seen.find((m) => m.mountpoint === disk)?.size, 8 * 1024 * 1024);
  });
});
