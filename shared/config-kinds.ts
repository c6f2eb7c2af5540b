import type * as z from 'zod';
import type { ConfigFileKind } from './config-file.ts';

/**
 * The config files a role knows, by kind name (`agent`, `collector`, `gateway`): a bare schema, or a kind that also
 * says which sections a file must set and which defaults deserve a warning. Each role exports its own; `offhook
 * check-config` (ops/check-config.ts) checks files against all of them.
 */
export type ConfigKinds = Record<string, z.ZodType | ConfigFileKind>;
