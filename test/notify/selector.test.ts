import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { Selector, containerSelector } from '../../src/notify/selector';
import { Route, routeConfig } from '../../src/notify/router';
import { Policy, respondConfig } from '../../src/respond/policy';

// A label value the container chose, shaped to make `.*-.*-.*-prod` backtrack (review L1).
const HOSTILE = '-'.repeat(100_000) + 'x';

function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

describe('container selectors and route matches on hostile label values', () => {
  it('Selector (respond allow/deny lists) answers at once and correctly', () => {
    const s = new Selector(containerSelector.parse({ labels: { env: '*-*-*-prod' }, names: ['web-*'], images: ['*/nginx:*'] }));
    let why: string | undefined = 'unset';
    assert.ok(ms(() => (why = s.why({ name: 'x', labels: { env: HOSTILE } }))) < 50);
    assert.equal(why, undefined);
    assert.equal(s.why({ name: 'x', labels: { env: 'eu-west-1-prod' } }), 'label env=eu-west-1-prod');
    assert.equal(s.why({ name: 'web-1', labels: {} }), 'name web-1');
    assert.equal(s.why({ image: 'docker.io/library/nginx:1.27', labels: {} }), 'image docker.io/library/nginx:1.27');
    assert.equal(s.why({ name: 'my-web-1', image: 'nginx', labels: {} }), undefined);
  });

  it('a notification route matches label globs and rule globs without backtracking', () => {
    const cfg = routeConfig.parse({ destinations: ['chat'], match: { labels: { env: '*-*-*-prod' }, rules: ['dockward-*-shell*'] } });
    const route = new Route('prod', cfg, [], {} as never, {});
    const alert = (env: string, rule = 'dockward-reverse-shell-nc') => ({ rule: { id: rule }, container: { labels: { env } }, dockward: { alert: { severity: 'high' } } });
    let hit = true;
    assert.ok(ms(() => (hit = route.matches(alert(HOSTILE)))) < 50);
    assert.equal(hit, false);
    assert.equal(route.matches(alert('eu-west-1-prod')), true);
    assert.equal(route.matches(alert('eu-west-1-prod', 'dockward-miner-log')), false);
  });

  it('a response policy picks rules by glob and honours the allow-list', () => {
    const policy = new Policy(respondConfig.parse({ policies: [{ rules: ['dockward-*-shell*'], action: 'pause' }], allow: { labels: { env: '*-*-*-dev' } } }), undefined);
    const alert = { rule: { id: 'dockward-reverse-shell-nc' }, dockward: { alert: { severity: 'critical', evidence: 'process' } } };
    let d: ReturnType<Policy['decide']> = { kind: 'none' };
    assert.ok(ms(() => (d = policy.decide(alert, { id: 'c1', labels: { env: HOSTILE } }))) < 50);
    assert.equal(d.kind, 'act');
    assert.equal(policy.decide(alert, { id: 'c1', labels: { env: 'eu-west-1-dev' } }).kind, 'refused');
    assert.equal(policy.decide({ ...alert, rule: { id: 'dockward-miner-log' } }, { id: 'c1', labels: {} }).kind, 'none');
  });
});
