import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import * as z from 'zod';
import { encodeNetstring, NetstringDecoder } from './netstring.ts';

/** An event baresip pushes over ctrl_tcp (CALL_RINGING, CALL_DTMF_START, REGISTER_OK, ...). */
export const BaresipEvent = z
  .object({
    event: z.literal(true),
    type: z.string().min(1),
    class: z.string().optional(),
    accountaor: z.string().optional(),
    direction: z.enum(['incoming', 'outgoing']).optional(),
    peeruri: z.string().optional(),
    peerdisplayname: z.string().optional(),
    /** The SIP Call-ID; absent on events not tied to a call. */
    id: z.string().optional(),
    param: z.string().optional(),
  })
  .loose();
export type BaresipEvent = z.infer<typeof BaresipEvent>;

/** The answer to one command; `data` is the menu's human-readable text. */
export const BaresipResponse = z.object({
  response: z.literal(true),
  ok: z.boolean(),
  data: z.string().default(''),
  token: z.string().optional(),
});
export type BaresipResponse = z.infer<typeof BaresipResponse>;

export class ControlClosedError extends Error {}
export class CommandTimeoutError extends Error {}

export interface ControlEvents {
  event: [BaresipEvent];
  /** A frame that is not a valid response or event; it is dropped. */
  invalid: [reason: 'json' | 'schema' | 'framing', detail: string];
  close: [reason: string];
}

interface PendingCommand {
  resolve: (response: BaresipResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A client of baresip's ctrl_tcp socket: commands carry a token so each answer finds its caller,
 * and events are emitted as they arrive. A broken frame desynchronises the stream, so the
 * connection is closed and the supervisor treats it like a dead baresip.
 */
export class BaresipControl extends EventEmitter<ControlEvents> {
  private readonly decoder = new NetstringDecoder();
  private readonly pending = new Map<string, PendingCommand>();
  private nextToken = 1;
  private closedReason: string | null = null;

  private constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', (err) => this.shutDown(`control socket error: ${err.message}`));
    socket.on('close', () => this.shutDown('control socket closed'));
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5_000): Promise<BaresipControl> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to baresip ctrl_tcp ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to baresip ctrl_tcp ${host}:${port}: ${err.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new BaresipControl(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Runs a menu command (`dial`, `hangup`, `accept`, `ausrc`, `listcalls`, ...). */
  command(command: string, params?: string, timeoutMs = 5_000): Promise<BaresipResponse> {
    if (this.closedReason !== null)
      return Promise.reject(new ControlClosedError(`baresip control is closed (${this.closedReason})`));
    const token = String(this.nextToken++);
    const message: Record<string, string> = { command, token };
    if (params !== undefined) message.params = params;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new CommandTimeoutError(`baresip did not answer "${command}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.socket.write(encodeNetstring(JSON.stringify(message)));
    });
  }

  close(): void {
    this.socket.destroy();
    this.shutDown('closed by the driver');
  }

  private receive(chunk: Buffer): void {
    let frames: string[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.emit('invalid', 'framing', (err as Error).message);
      this.socket.destroy();
      this.shutDown(`broken ctrl_tcp stream: ${(err as Error).message}`);
      return;
    }
    for (const frame of frames) this.dispatch(frame);
  }

  private dispatch(frame: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame);
    } catch {
      this.emit('invalid', 'json', frame.slice(0, 200));
      return;
    }
    const response = BaresipResponse.safeParse(parsed);
    if (response.success) {
      const waiting = response.data.token === undefined ? undefined : this.pending.get(response.data.token);
      if (waiting) {
        this.pending.delete(response.data.token!);
        clearTimeout(waiting.timer);
        waiting.resolve(response.data);
      }
      return;
    }
    const event = BaresipEvent.safeParse(parsed);
    if (event.success) {
      this.emit('event', event.data);
      return;
    }
    this.emit('invalid', 'schema', frame.slice(0, 200));
  }

  private shutDown(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const [token, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new ControlClosedError(`baresip control closed before answering (${reason})`));
      this.pending.delete(token);
    }
    this.emit('close', reason);
  }
}
