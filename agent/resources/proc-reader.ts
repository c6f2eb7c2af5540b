import { readdirSync, readFileSync } from 'node:fs';
import { readFile, statfs as fsStatfs } from 'node:fs/promises';
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

/**
 * Reads a /proc file (synchronously, see readProcesses); a missing one (no swap, a container without diskstats) is
 * empty, not an error.
 */
export async function readProcFile(source: ProcSource, relative: string): Promise<string> {
  try {
    return readFileSync(join(source.root, relative), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * Every process's stat line; processes that exit while we read are skipped. The stat files are read
 * synchronously: procfs answers from memory, and ~100 async reads a second cost 5x the CPU (bench).
 * cmdline stays async because reading it takes the target's mmap lock, which a stuck process can hold.
 */
export async function readProcesses(
  source: ProcSource,
  withCommandLine = false,
): Promise<(ProcessStat & { cmdline?: string })[]> {
  const out: (ProcessStat & { cmdline?: string })[] = [];
  for (const pid of readdirSync(source.root)) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: ProcessStat | null;
    try {
      stat = parseProcessStat(readFileSync(join(source.root, pid, 'stat'), 'utf8'), source.pageSize);
    } catch {
      continue; // gone between readdir and read: not an error
    }
    if (stat) out.push(stat);
  }
  if (withCommandLine) {
    await Promise.all(
      out.map(async (p) => {
        // The process may have exited since the listing (or hides its cmdline): fall back to [comm] like ps does.
        const raw = await readFile(join(source.root, String(p.pid), 'cmdline'), 'utf8').catch(() => '');
        (p as ProcessStat & { cmdline?: string }).cmdline =
          raw.replace(/\0+$/, '').replace(/\0/g, ' ') || `[${p.comm}]`;
      }),
    );
  }
  return out.sort((a, b) => a.pid - b.pid);
}
