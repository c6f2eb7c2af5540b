import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';

const HOLD_LIMIT_MS = 2 ** 31 - 1;

/** Why a check ran before its time (offhook_agent_check_early_runs_total{reason}). */
export type EarlyRunReason = 'connection_closed';
export type Wake = (reason: EarlyRunReason) => void;

/**
 * Holds the connection an HTTP(S) run used until the next run, and wakes the scheduler when the server closes it
 * while idle: a crash or restart closes every socket at once, so the check learns at once what its next interval
 * would otherwise tell it up to a whole interval later (agent/README.md, Connection watch).
 *
 * Each run still opens a fresh connection (its latency includes connect and TLS handshake, it sees the current
 * certificate and DNS answer, as blackbox_exporter's probes do) and nothing is ever sent on a held one, so there is
 * no keep-alive race (a request on a socket the server is closing) to guard against. The held socket is the run's
 * keep-alive agent's free socket: node's agent closes it itself a second before the idle timeout a server announces
 * (`Keep-Alive: timeout=5`; at once for 1 s or less), and that close, like ours at the next run, is no server close
 * and wakes nothing.
 */
export class ConnectionWatch {
  /** The last run's agents: their pooled sockets are the ones watched. */
  private agents: HttpAgent[] = [];
  private wake: Wake | null = null;

  start(wake: Wake): void {
    this.wake = wake;
  }

  /** The `agent` option for one run's requests: a keep-alive agent of its own, or false (no watch, as before). */
  agentForRun(): { http: HttpAgent | false; https: HttpsAgent | false } {
    this.retire();
    if (!this.wake) return { http: false, https: false };
    // One agent per run, with a socket per host and scheme; a redirect to another host holds that one too.
    // node applies a server's Keep-Alive hint only under an agent timeout: one no hint reaches (setTimeout's limit).
    const options = { keepAlive: true, maxFreeSockets: 1, timeout: HOLD_LIMIT_MS };
    const http = new HttpAgent(options);
    const https = new HttpsAgent(options);
    for (const agent of [http, https]) {
      // Registered after the agent's own 'free' handler: the socket is pooled by now, or destroyed (the server said
      // Connection: close, or announced an idle timeout under 1 s).
      agent.on('free', (socket: Socket) => {
        if (!socket.destroyed) this.hold(agent, socket);
      });
    }
    this.agents = [http, https];
    return { http, https };
  }

  private hold(agent: HttpAgent, socket: Socket): void {
    let byServer = false;
    const closedByServer = (): void => {
      byServer = true;
    };
    // FIN ('end') or RST ('error') arrive before 'close' only when the other side closed; our destroy() and node's
    // idle timer go straight to 'close'.
    socket.once('end', closedByServer);
    socket.once('error', closedByServer);
    socket.once('close', () => {
      if (byServer && this.agents.includes(agent) && this.wake) this.wake('connection_closed');
    });
  }

  /** Closes the previous run's connections (a run's own close is no news). */
  retire(): void {
    const agents = this.agents;
    this.agents = [];
    for (const agent of agents) agent.destroy();
  }

  /** The agent stops: drop the connections and never wake again. */
  stop(): void {
    this.wake = null;
    this.retire();
  }
}
