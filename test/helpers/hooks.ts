import { killAllTracked } from '../../deploy/lib/processes.ts';

/** Root hook: whatever a test file forgot to stop is killed by PID when the run ends. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await killAllTracked();
  },
};
