import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownLabels, Policy, respondConfig } from '../../src/respond/policy';
import { Budgets } from '../../src/respond/rate-limit';
import { alert, cid, harness, IMAGE, response } from './support';

const OTHER_IMAGE = `sha256:${'cd'.repeat(32)}`;

describe('allow-list: labels the container carries, not its image\'s (review L2)', () => {
  const cfg = { policies: [{ rules: ['*'], action: 'pause' }], allow: { labels: { 'dockward.respond': 'off' } }, rate_limit: 10, rate_limit_per_rule: 10 };

  it('an image that sets LABEL dockward.respond=off exempts none of its containers; the audit says why', async () => {
    const h = harness(cfg, { [IMAGE]: { 'dockward.respond': 'off', maintainer: 'x' } });
    const first = alert('r', { id: cid(1), labels: { 'dockward.respond': 'off' } });
    h.responder.annotate(first);
    h.responder.annotate(alert('r', { id: cid(2), labels: { 'dockward.respond': 'off' } }));
    assert.equal((first.doc.dockward as { alert: { response: { outcome: string } } }).alert.response.outcome, 'pending');
    await h.responder.drain();
    assert.deepEqual(h.actions.sort(), [`pause ${cid(1)}`, `pause ${cid(2)}`]);
    assert.equal(response(h.audits[0]).reason, 'policy 0 (label dockward.respond=off not counted: the image sets it)');
    assert.deepEqual(h.imageInspects, [IMAGE], 'one inspect per image, shared by its containers');
    // Known now: the next decision is synchronous.
    const later = alert('r2', { id: cid(3), labels: { 'dockward.respond': 'off' } });
    h.responder.annotate(later);
    assert.equal((later.doc.dockward as { alert: { response: { outcome: string } } }).alert.response.outcome, 'requested');
  });

  it('a container run with --label dockward.respond=off (not in its image, or another value) is allow-listed', async () => {
    const h = harness(cfg, { [IMAGE]: {}, [OTHER_IMAGE]: { 'dockward.respond': 'on' } });
    h.responder.annotate(alert('r', { id: cid(1), labels: { 'dockward.respond': 'off' } }));
    h.responder.annotate(alert('r', { id: cid(2), image: { name: 'other', hash: { all: [OTHER_IMAGE] } }, labels: { 'dockward.respond': 'off' } }));
    await h.responder.drain();
    assert.deepEqual(h.actions, []);
    assert.deepEqual(h.audits.map((a) => response(a).reason), ['allow-listed (label dockward.respond=off)', 'allow-listed (label dockward.respond=off)']);
  });

  it('when the image\'s labels cannot be read (removed image), no label counts', async () => {
    const h = harness(cfg, {});
    h.responder.annotate(alert('r', { id: cid(1), labels: { 'dockward.respond': 'off' } }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [`pause ${cid(1)}`]);
    assert.match(response(h.audits[0]).reason, /not counted: the image's labels are unknown/);
  });

  it('image ids, which no image builder can choose, allow-list without asking the engine', async () => {
    const h = harness({ ...cfg, allow: { image_ids: [IMAGE] } });
    h.responder.annotate(alert('r', { id: cid(1) }));
    await h.responder.drain();
    assert.deepEqual(h.actions, []);
    assert.equal(response(h.audits[0]).reason, `allow-listed (image id ${IMAGE})`);
    assert.deepEqual(h.imageInspects, []);
    assert.throws(() => respondConfig.parse({ allow: { image_ids: ['sha256:abc'] } }), /image_ids/);
  });

  it('Policy alone (no image lookup) keeps the labels as they are; ownLabels drops the image\'s', () => {
    const p = new Policy(respondConfig.parse(cfg), undefined);
    const d = p.decide(alert('r', {}).doc, { id: cid(1), labels: { 'dockward.respond': 'off' } });
    assert.equal(d.kind, 'refused');
    assert.deepEqual(ownLabels({ a: '1', b: '2', c: '3' }, { a: '1', b: 'x' }), { b: '2', c: '3' });
    assert.deepEqual(ownLabels({ a: '1' }, null), {});
  });
});

describe('policy evidence', () => {
  it('an alert that does not say what it rests on is refused', () => {
    const p = new Policy(respondConfig.parse({ policies: [{ rules: ['*'], action: 'kill' }] }), undefined);
    const doc = alert('r', {}).doc;
    delete (doc.dockward as { alert: { evidence?: string } }).alert.evidence;
    const d = p.decide(doc, { id: cid(1), labels: {} });
    assert.equal(d.kind, 'refused');
    assert.match((d as { reason: string }).reason, /^unknown-evidence/);
  });

  it('defaults to every kind but log and stats, and refuses an empty list', () => {
    const cfg = respondConfig.parse({ policies: [{ rules: ['*'], action: 'pause' }] });
    assert.deepEqual(cfg.policies[0].evidence, ['process', 'file', 'config', 'event', 'network', 'posture']);
    assert.throws(() => respondConfig.parse({ policies: [{ rules: ['*'], evidence: [], action: 'pause' }] }));
    assert.throws(() => respondConfig.parse({ policies: [{ rules: ['*'], evidence: ['logs'], action: 'pause' }] }));
  });

  it('an old config (no new keys) still parses, with the new budgets and rearm defaults', () => {
    const cfg = respondConfig.parse({ enabled: true, rate_limit: 2, policies: [{ rules: ['dockward-miner-*'], action: 'pause' }], allow: { labels: { a: 'b' } }, deny: { names: ['x-*'] } });
    assert.deepEqual([cfg.rate_limit, cfg.rate_limit_per_rule, cfg.rate_limit_per_container, cfg.rearm_after], [2, 3, 1, 3_600_000]);
  });
});

describe('Budgets', () => {
  it('counts an action in all budgets or in none', () => {
    const b = new Budgets({ global: 3, perRule: 2, perContainer: 1 });
    assert.equal(b.take('r', 'c1', 0), undefined);
    assert.match(b.take('r', 'c1', 1)!, /for this container/);
    assert.equal(b.take('r', 'c2', 2), undefined);
    assert.match(b.take('r', 'c3', 3)!, /for rule r/);
    // c3's refused attempt took nothing from the global budget: one left.
    assert.equal(b.take('s', 'c3', 4), undefined);
    assert.match(b.take('t', 'c4', 5)!, /^rate limit: 3 actions per minute reached$/);
    assert.equal(b.take('t', 'c4', 60_001), undefined);
  });

  it('keeps its per-key maps bounded when many containers come and go', () => {
    const b = new Budgets({ global: 1_000_000, perRule: 1_000_000, perContainer: 1 });
    for (let i = 0; i < 5_000; i++) b.take('r', `c${i}`, i * 100);
    assert.ok(b.size.containers <= 1_001, `${b.size.containers} container limiters`);
  });
});
