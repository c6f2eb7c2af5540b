import type { z } from 'zod';
import { unknownPlaceholders } from './summary.ts';
export { MatcherText } from '../silences/index.ts';

/**
 * Adds a config issue for each placeholder the rule kind does not fill (a typo would otherwise be read out literally).
 */
export function unknownPlaceholdersIssue(
  template: string | undefined,
  known: readonly string[],
  ctx: z.core.$RefinementCtx,
): void {
  if (!template) return;
  for (const key of unknownPlaceholders(template, known)) {
    ctx.addIssue({
      code: 'custom',
      path: ['summary'],
      message: `expected placeholders among {${known.join('}, {')}} or {labels.NAME}; {${key}} is unknown`,
    });
  }
}
