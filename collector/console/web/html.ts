/// <reference lib="dom" />
/**
 * Tagged templates instead of JSX: no compile step of their own, and every `${value}` in a text position becomes a
 * text node, so alert text from agents and log lines is shown as text, never parsed as HTML.
 */
export { html } from 'htm/preact';
