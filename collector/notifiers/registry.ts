import { httpGetPlugin } from './http-get.ts';
import type { NotifierPlugin } from './types.ts';
import { webhookPlugin } from './webhook.ts';

/** Every receiver kind; adding one is a new file and one line here. */
export const notifierPlugins: readonly NotifierPlugin[] = [
  webhookPlugin,
  httpGetPlugin,
] as unknown as readonly NotifierPlugin[];

export function pluginFor(kind: string): NotifierPlugin | undefined {
  return notifierPlugins.find((plugin) => plugin.kind === kind);
}
