import { Gauge, NatsProbe, type Logger, type NatsConnection, type Registry } from '../../shared/index.ts';

/**
 * An agent cannot phone anyone: when it has not reached NATS for `silenceMs` it says so loudly, once, at error level
 * and in /metrics (offhook_agent_nats_silent 0/1, offhook_agent_nats_silent_seconds), and says when it is back.
 * Its events wait in the spool meanwhile; the collector's host_down rule is what pages about a silent agent.
 */
export class NatsSilenceWatch {
  private readonly probe: NatsProbe;
  private readonly silent: Gauge;
  private readonly silentSeconds: Gauge;
  private reported = false;

  constructor(
    connection: () => NatsConnection | null,
    private readonly silenceMs: number,
    registry: Registry,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.probe = new NatsProbe(connection, now);
    this.silent = new Gauge({ name: 'offhook_agent_nats_silent', help: '1 while the agent has not reached NATS for longer than nats_silence', registers: [registry] });
    this.silentSeconds = new Gauge({ name: 'offhook_agent_nats_silent_seconds', help: 'How long the agent has not reached NATS (0 while it does)', registers: [registry] });
  }

  /** How often check() should run: often enough to notice within a fraction of the silence. */
  get checkIntervalMs(): number {
    return Math.max(100, Math.min(1000, Math.floor(this.silenceMs / 4)));
  }

  check(spoolDepth: number): void {
    this.probe.probe();
    const silentMs = this.probe.online ? 0 : this.now() - this.probe.lastOk;
    this.silentSeconds.set(silentMs / 1000);
    const over = this.silenceMs > 0 && silentMs > this.silenceMs;
    this.silent.set(over ? 1 : 0);
    if (over && !this.reported) {
      this.reported = true;
      this.logger.error({ silentSeconds: Math.round(silentMs / 1000), spoolDepth }, 'cannot reach NATS: events are spooled and this host looks down to the collector; the agent cannot phone anyone');
    } else if (!over && this.reported && this.probe.online) {
      this.reported = false;
      this.logger.info({ spoolDepth }, 'NATS reachable again');
    }
  }
}
