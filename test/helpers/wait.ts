/**
 * Between two tries of `until`: long enough that a waiting test does not spin a core (on two cores, with test files
 * in parallel, a spinning wait starves the very processes it waits for), short against anything a test waits for.
 */
const UNTIL_EVERY_MS = 5;

/** Polls a condition until true; the timeout is only a failure bound. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, UNTIL_EVERY_MS));
  }
}

/** Like `until`, for conditions that cost a round trip (an HTTP scrape): yields to timers between tries. */
export async function untilPolled(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
