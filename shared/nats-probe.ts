import type { NatsConnection } from '@nats-io/transport-node';

/** A PING that has not come back after this long means the server is not answering (it counts as unreachable). */
const PROBE_PATIENCE_MS = 2_000;

/**
 * Whether this process can reach NATS (the gateway's watchdog, the agent's nats_silence), from a PING/PONG round
 * trip (`flush`) on every check. It fails at once while the client is disconnected, and a server that stops
 * answering is caught by the patience above, long before the client's own ping timeout notices.
 */
export class NatsProbe {
  private lastOkAt: number;
  private inFlightSince: number | null = null;
  private reachable = true;

  constructor(
    /** The connection, or null while there is none yet (the agent connects in the background). */
    private readonly connection: () => NatsConnection | null,
    private readonly now: () => number,
  ) {
    this.lastOkAt = now();
  }

  get online(): boolean {
    return this.reachable;
  }

  /** Since when NATS has not answered (0 while it answers). */
  silentForMs(): number {
    return this.reachable ? 0 : this.now() - this.lastOkAt;
  }

  /** When NATS last answered. */
  get lastOk(): number {
    return this.lastOkAt;
  }

  probe(): void {
    const now = this.now();
    if (this.inFlightSince !== null) {
      if (now - this.inFlightSince > PROBE_PATIENCE_MS) this.reachable = false;
      return;
    }
    const nc = this.connection();
    if (!nc || nc.isClosed()) {
      this.reachable = false;
      return;
    }
    this.inFlightSince = now;
    nc.flush().then(
      () => {
        this.inFlightSince = null;
        this.lastOkAt = this.now();
        this.reachable = true;
      },
      () => {
        // Disconnected or reconnecting: exactly what is measured; the next check probes again.
        this.inFlightSince = null;
        this.reachable = false;
      },
    );
  }
}
