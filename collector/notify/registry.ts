import { execPlugin } from './exec.ts';
import { httpGetPlugin } from './http-get.ts';
import { ircPlugin } from './irc.ts';
import { mailPlugin } from './mail.ts';
import { tracPlugin } from './trac.ts';
import type { NotifierPlugin } from './types.ts';
import { webhookPlugin } from './webhook.ts';

/** Every receiver kind; adding one is a new file and one line here. */
export const notifierPlugins = [
  webhookPlugin,
  httpGetPlugin,
  mailPlugin,
  ircPlugin,
  tracPlugin,
  execPlugin,
] as unknown as readonly NotifierPlugin[];

export function pluginFor(kind: string): NotifierPlugin | undefined {
  return notifierPlugins.find((plugin) => plugin.kind === kind);
}
