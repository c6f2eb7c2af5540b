import assert from 'node:assert/strict';
import { NotificationsConfig } from '../../../collector/notify/config.ts';

describe('notify config: a receiver kind keeps its own cross-field checks', () => {
  it('refuses a trac receiver in xmlrpc mode without url and user, naming the receiver', () => {
    const result = NotificationsConfig.safeParse({ receivers: [{ name: 'tickets', kind: 'trac', mode: 'xmlrpc' }] });
    assert.equal(result.success, false);
    const issue = result.error?.issues.find((i) => /mode xmlrpc needs url and user/.test(i.message));
    assert.ok(issue, JSON.stringify(result.error?.issues));
    assert.deepEqual(issue.path.slice(0, 2), ['receivers', 0]);
  });

  it('accepts the same receiver once url and user are given', () => {
    const result = NotificationsConfig.safeParse({
      receivers: [{ name: 'tickets', kind: 'trac', mode: 'xmlrpc', url: 'http://127.0.0.1:1/trac', user: 'offhook' }],
    });
    assert.equal(result.success, true, JSON.stringify(result.error?.issues));
  });
});
