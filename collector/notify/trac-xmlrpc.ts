import { readFileSync } from 'node:fs';
import { type Alert, rfc3339 } from '../../shared/index.ts';
import type { NotificationBatch, NotifyOutcome } from './types.ts';
import { decodeResponse, encodeCall, XmlRpcFault, type XmlRpcValue } from './xmlrpc.ts';

export interface TracRpcOptions {
  url: string;
  user: string;
  password_file?: string | undefined;
  password_env?: string | undefined;
  reporter: string;
  fingerprintField: string;
  ticketFields: (alert: Alert, batch: NotificationBatch) => { summary: string; description: string };
  attributes: (alert: Alert) => Record<string, string>;
  resolveComment: (alert: Alert, resolvedAt: string) => string;
  on_resolve: 'comment' | 'close';
  resolution: string;
}

/** An HTTP answer that is not a methodResponse: 401/403 are config errors, 5xx and 429 are Trac having trouble. */
class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(
      status === 401 || status === 403
        ? `HTTP ${status} from Trac: check user and password, and that the user has XML_RPC and TICKET_CREATE ` +
            'permission (trac-admin <env> permission add <user> XML_RPC TICKET_CREATE TICKET_MODIFY)'
        : `HTTP ${status} from Trac`,
    );
  }
}

function password(options: TracRpcOptions): string {
  if (options.password_file) return readFileSync(options.password_file, 'utf8').trim();
  if (options.password_env) {
    const value = process.env[options.password_env];
    if (value === undefined) {
      const err = new Error(`password_env: environment variable ${options.password_env} is not set`);
      (err as NodeJS.ErrnoException).code = 'ENOENT';
      throw err;
    }
    return value;
  }
  return '';
}

/**
 * Trac through XmlRpcPlugin (POST <url>/login/rpc): ticket.create on firing, ticket.update on resolve, so Trac's own
 * notifications and workflow run, and any Trac database backend works. The ticket id per alert is remembered in
 * memory; after a restart it is looked up with ticket.query on the `offhook_alert` custom field (declared in trac.ini).
 */
export function createTracRpc(options: TracRpcOptions) {
  const endpoint = `${options.url.replace(/\/+$/, '')}/login/rpc`;
  const tickets = new Map<string, number>();
  const keyOf = (alert: Alert): string => `${alert.fingerprint}.${alert.generation}`;

  const call = async (method: string, params: XmlRpcValue[], signal: AbortSignal): Promise<XmlRpcValue> => {
    const auth = Buffer.from(`${options.user}:${password(options)}`).toString('base64');
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml', Authorization: `Basic ${auth}`, 'User-Agent': 'offhook-collector' },
      body: encodeCall(method, params),
      signal,
      redirect: 'manual',
    });
    const text = await res.text();
    if (res.status !== 200) throw new HttpStatusError(res.status);
    return decodeResponse(text);
  };

  const findTicket = async (alert: Alert, signal: AbortSignal): Promise<number | undefined> => {
    const known = tickets.get(keyOf(alert));
    if (known !== undefined) return known;
    const ids = await call('ticket.query', [`${options.fingerprintField}=${keyOf(alert)}`], signal);
    const id = Array.isArray(ids) && typeof ids[0] === 'number' ? ids[ids.length - 1] : undefined;
    if (typeof id === 'number') tickets.set(keyOf(alert), id);
    return typeof id === 'number' ? id : undefined;
  };

  const open = async (alert: Alert, batch: NotificationBatch, signal: AbortSignal): Promise<void> => {
    // Only the in-memory map keeps a retry from opening a second ticket; a query per firing would cost a round trip.
    if (tickets.has(keyOf(alert))) return;
    const { summary, description } = options.ticketFields(alert, batch);
    const attrs = { ...options.attributes(alert), [options.fingerprintField]: keyOf(alert) };
    const id = await call('ticket.create', [summary, description, attrs, true], signal);
    if (typeof id !== 'number') throw new Error(`ticket.create returned ${JSON.stringify(id)}, not a ticket id`);
    tickets.set(keyOf(alert), id);
  };

  const resolve = async (alert: Alert, signal: AbortSignal): Promise<void> => {
    const id = await findTicket(alert, signal);
    if (id === undefined) return; // No ticket was opened (or Trac lost it): nothing to comment on.
    const resolvedAt = alert.endsAt > 0 ? rfc3339(alert.endsAt) : rfc3339(Date.now());
    const attrs: Record<string, string> =
      options.on_resolve === 'close'
        ? { action: 'resolve', action_resolve_resolve_resolution: options.resolution }
        : { action: 'leave' };
    await call('ticket.update', [id, options.resolveComment(alert, resolvedAt), attrs, true], signal);
    tickets.delete(keyOf(alert));
  };

  return async (batch: NotificationBatch, signal: AbortSignal): Promise<NotifyOutcome> => {
    try {
      for (const alert of batch.alerts) {
        if (alert.status === 'resolved') await resolve(alert, signal);
        else await open(alert, batch, signal);
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof XmlRpcFault) return { ok: false, retry: false, error: err.message };
      if (err instanceof HttpStatusError)
        return { ok: false, retry: err.status >= 500 || err.status === 429, error: err.message };
      const error = err as NodeJS.ErrnoException & { cause?: Error };
      if (error.code === 'ENOENT' || error.code === 'EACCES')
        return { ok: false, retry: false, error: `cannot read the Trac password: ${error.message}` };
      return { ok: false, retry: true, error: error.cause?.message ?? error.message };
    }
  };
}
