import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateDirInUseError extends Error {
  constructor(
    readonly stateDir: string,
    readonly pid: number,
  ) {
    super(
      `state_dir ${stateDir} is in use by another agent (pid ${pid}); give each agent on a machine its own state_dir`,
    );
  }
}

/**
 * Two agents sharing a state_dir would hand out the same seq numbers and fight over log positions,
 * so the first one takes a pid lock and the second refuses to start. A lock left by a dead process is taken over.
 */
export function lockStateDir(stateDir: string): () => void {
  const file = join(stateDir, 'agent.pid');
  try {
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
      throw new StateDirInUseError(stateDir, holder);
  } catch (err) {
    if (err instanceof StateDirInUseError) throw err;
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
