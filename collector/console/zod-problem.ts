import type * as z from 'zod';

/** The first problem of a request body as `field: message`, e.g. `fingerprint: expected 16 lowercase hex digits`. */
export function zodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'body: invalid';
  return `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`;
}
