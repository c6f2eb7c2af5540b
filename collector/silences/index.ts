/**
 * Silences, their KV store, and the Alertmanager-syntax label matchers that silences, rules, routes and the
 * CLI use.
 */
export { HostSelector, MatcherText, matchesAll, parseMatchers, type Matcher } from './matchers.ts';
export { SilenceStore } from './silence-store.ts';
export { Silence, describeMatchers, silenceActive, silenceMatches, silenceTarget } from './silence.ts';
