import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * A small tmpfs at `dir` (root only): the way to make a real "disk full" (ENOSPC) and, remounted
 * read-only, a real EROFS. Returns null where mounting is not allowed (no root, no CAP_SYS_ADMIN).
 */
export function mountTmpfs(
  dir: string,
  sizeBytes: number,
): { remount(options: 'ro' | 'rw'): void; unmount(): void } | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return {
    remount: (options) => void execFileSync('mount', ['-o', `remount,${options}`, dir], { stdio: 'ignore' }),
    unmount: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    },
  };
}
