import type * as z from 'zod';
import { compileTemplate } from '../notify/template.ts';
import { isLiquid, unknownPlaceholders } from './summary.ts';
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
  if (isLiquid(template)) {
    try {
      compileTemplate(template);
    } catch (err) {
      const message = `invalid template: ${(err as Error).message.split('\n')[0]}`;
      ctx.addIssue({ code: 'custom', path: ['summary'], message });
      return;
    }
    for (const key of unknownPlaceholders(template, known))
      ctx.addIssue({
        code: 'custom',
        path: ['summary'],
        message: `expected variables among ${known.join(', ')} or labels.NAME; ${key} is unknown`,
      });
    return;
  }
  for (const key of unknownPlaceholders(template, known)) {
    ctx.addIssue({
      code: 'custom',
      path: ['summary'],
      message: `expected placeholders among {${known.join('}, {')}} or {labels.NAME}; {${key}} is unknown`,
    });
  }
}
