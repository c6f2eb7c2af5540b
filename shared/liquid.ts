import { Liquid, type Template } from 'liquidjs';
import * as z from 'zod';

/**
 * Operator-written templates (issue #18; the collector's notifications and rule summaries, the gateway's spoken
 * call text), in LiquidJS: it interprets a parsed tree (no eval, no
 * `new Function`), reads only own properties (no prototype walk), and strict filters/variables turn a typo into an
 * error. Why Liquid and not Handlebars: see the collector's notify README, "Templates".
 * Not exported from shared/index.ts: the agent, which renders no templates, does not bundle liquidjs.
 */
const liquid = new Liquid({
  strictFilters: true,
  strictVariables: true,
  ownPropertyOnly: true,
  // No file system: {% include %} / {% render %} have nothing to read, so a template cannot open files.
  fs: { readFileSync: noFile, existsSync: () => false, exists: async () => false, readFile: noFile, resolve: noFile },
  relativeReference: false,
});

function noFile(): never {
  throw new Error('templates cannot include files');
}

/** Parses a template or throws Liquid's message ("unknown filter "foo", line:1, col:5"). */
export function compileTemplate(source: string): Template[] {
  return liquid.parse(source);
}

/** The root variable names a template reads (`{{ labels.x }}` → `labels`), for check-config's name check. */
export function templateVariables(source: string): string[] {
  return liquid.globalVariablesSync(compileTemplate(source));
}

/**
 * Renders with missing variables as empty text (check-config has already checked the root names): a rule summary's
 * `{{ labels.mountpoint }}` on a series without that label reads as nothing, like `{labels.mountpoint}` does.
 */
export function renderLenient(parsed: Template[], scope: Record<string, unknown>): string {
  return liquid.renderSync(parsed, scope, { strictVariables: false }) as string;
}

/** A config string that must be a valid template: check-config reports the field and Liquid's message. */
export const TemplateSource = z
  .string()
  .max(20_000)
  .superRefine((source, ctx) => {
    try {
      compileTemplate(source);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid template: ${(err as Error).message.split('\n')[0]}` });
    }
  });

/** Renders a parsed template strictly (an undefined variable throws). */
export function renderStrict(parsed: Template[], scope: Record<string, unknown>): string {
  return liquid.renderSync(parsed, scope) as string;
}
