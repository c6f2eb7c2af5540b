import assert from 'node:assert/strict';
import { ActiveSeries } from '../../../collector/alerts/active-series.ts';

/*
 * The engine passes a clear verdict over at once when its rule has no active series (alerts/engine.ts apply): the
 * count per rule must follow every set, overwrite and delete, or a firing alert would never see its clear verdict.
 */
describe('ActiveSeries: the engine index of series with an alert or state', () => {
  it('counts per rule across overwrites and deletes, rule names with ":" and "/" included', () => {
    const active = new ActiveSeries();
    const a1 = ActiveSeries.key('disk:full/root', 'web1|mountpoint=/');
    const a2 = ActiveSeries.key('disk:full/root', 'web2|mountpoint=/');
    const b1 = ActiveSeries.key('disk', 'web1');
    active.set(a1, 'f1');
    active.set(a1, 'f1b');
    active.set(a2, 'f2');
    active.set(b1, 'f3');
    assert.equal(active.get(a1), 'f1b');
    assert.ok(active.any('disk:full/root') && active.any('disk'));
    active.delete(a1);
    assert.ok(active.any('disk:full/root'), 'one series of the rule left');
    active.delete(a2);
    active.delete(a2);
    assert.equal(active.any('disk:full/root'), false);
    assert.equal(active.get(a2), undefined);
    assert.ok(active.any('disk'));
    active.delete(b1);
    assert.equal(active.any('disk'), false);
  });
});
