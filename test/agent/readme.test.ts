import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { checkReference } from '../../agent/docs.ts';
import { checkKinds } from '../../agent/index.ts';

const README = new URL('../../agent/README.md', import.meta.url);
const BEGIN = '<!-- check-reference:begin -->\n';
const END = '<!-- check-reference:end -->';

describe('agent/README.md', () => {
  it('carries the check reference generated from the plugin schemas', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(BEGIN) + BEGIN.length;
    const end = text.indexOf(END);
    assert.ok(start >= BEGIN.length && end > start, 'README has the check-reference markers');
    const generated = checkReference();
    if (process.env.OFFHOOK_UPDATE_DOCS === '1')
      writeFileSync(README, text.slice(0, start) + generated + text.slice(end));
    assert.equal(text.slice(start, end), generated, 'run OFFHOOK_UPDATE_DOCS=1 npx mocha test/agent/readme.test.ts');
    for (const kind of checkKinds) assert.ok(generated.includes(`\`${kind}\``), `${kind} documented`);
  });
});
