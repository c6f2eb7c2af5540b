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
    const registers = [registry];
    const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
    this.silent = gauge('offhook_agent_nats_silent', '1 while NATS is silent for longer than nats_silence');
    this.silentSeconds = gauge('offhook_agent_nats_silent_seconds', 'How long NATS has been silent (0 while not)');
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
      this.logger.error(
        { silentSeconds: Math.round(silentMs / 1000), spoolDepth },
        'cannot reach NATS: events are spooled, this host looks down to the collector, and an agent cannot phone',
      );
    } else if (!over && this.reported && this.probe.online) {
      this.reported = false;
      this.logger.info({ spoolDepth }, 'NATS reachable again');
    }
  }
}
