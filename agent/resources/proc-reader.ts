import { readdir, readFile, statfs as fsStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcessStat, type ProcessStat } from './procfs.ts';

export interface FsStats {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** Where /proc lives and how to statfs a mount point; tests point both at fixtures. */
export interface ProcSource {
  root: string;
  statfs(mountpoint: string): Promise<FsStats>;
  pageSize: number;
}

export const liveProc: ProcSource = {
  root: '/proc',
  statfs: (path) => fsStatfs(path) as Promise<FsStats>,
  pageSize: 4096,
};

/** Reads a /proc file; a missing one (no swap, a container without diskstats) is empty, not an error. */
export async function readProcFile(source: ProcSource, relative: string): Promise<string> {
  try {
    return await readFile(join(source.root, relative), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Every process's stat line; processes that exit while we read are skipped. */
export async function readProcesses(source: ProcSource, withCommandLine = false): Promise<(ProcessStat & { cmdline?: string })[]> {
  const entries = await readdir(source.root);
  const out: (ProcessStat & { cmdline?: string })[] = [];
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (pid) => {
        try {
          const stat = parseProcessStat(await readFile(join(source.root, pid, 'stat'), 'utf8'), source.pageSize);
          if (!stat) return;
          if (withCommandLine) {
            const raw = await readFile(join(source.root, pid, 'cmdline'), 'utf8').catch(() => '');
            out.push({ ...stat, cmdline: raw.replace(/\0+$/, '').replace(/\0/g, ' ') || `[${stat.comm}]` });
          } else out.push(stat);
        } catch {
          // Gone between readdir and read: not an error.
        }
      }),
  );
  return out.sort((a, b) => a.pid - b.pid);
}
