import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANOMALY_RULE } from '../../src/anomaly/alert';
import { Detector, detectConfig } from '../../src/detect/detector';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';
import { TAMPER_RULES } from '../../src/detect/tamper';
import type { Envelope } from '../../src/ship/envelope';
import { alert, cid, documentedRespondBlock, harness, response, ruleOf, type Harness } from './support';

const RULES = loadRules([BUILTIN_RULES]).rules;

/** The detector with the built-in pack, its alerts annotated by `h`'s responder as in the pipeline. */
function detector(h: Harness): { det: Detector; alerts: Envelope[] } {
  const alerts: Envelope[] = [];
  const det = new Detector(RULES, detectConfig.parse({ window: '5m' }), 'default', (a) => {
    h.responder.annotate(a);
    alerts.push(a);
  }, h.telemetry);
  return { det, alerts };
}

/** nginx access-log lines for `curl 'http://web-N.example/?q=nicehash'` and `…?ref=stratum+tcp://x` (review H4). */
function accessLogs(det: Detector, labels: Record<string, string>): void {
  for (let i = 1; i <= 7; i++) {
    const message = `203.0.113.9 - - [01/Dec/2026:18:00:0${i} +0000] "GET /?q=${i % 2 ? 'nicehash' : 'stratum+tcp://x'} HTTP/1.1" 200 612 "-" "curl/8.5.0"`;
    det.inspect({ index: 'logs-dockward.container-default', id: String(i), doc: { message, container: { id: cid(i), name: `web-${i}`, image: { name: 'nginx' }, labels }, data_stream: { dataset: 'dockward.container' } } });
  }
}

const process = (id: string, name: string, command_line: string) => ({
  index: 'logs-dockward.process-default',
  id: `p-${id.slice(0, 4)}-${name}`,
  doc: {
    data_stream: { dataset: 'dockward.process' },
    event: { type: ['start'] },
    process: { name, executable: `/tmp/${name}`, command_line, args: command_line.split(' ') },
    container: { id, name: `app-${id.slice(0, 2)}`, image: { name: 'app' }, labels: { 'dockward.respond': 'on' } },
  },
});

describe('responder: evidence a remote party cannot forge (review H4)', () => {
  it('seven requests naming a pool pause nothing under the review\'s policy; each refusal is audited as log evidence', async () => {
    const h = harness({
      rate_limit: 5,
      policies: [{ rules: ['dockward-miner-*'], action: 'pause' }, { min_severity: 'critical', tags: ['reverse-shell'], action: 'disconnect' }],
      allow: { labels: { 'dockward.respond': 'off' }, images: ['registry.example/scanner:*'] },
      deny: { names: ['web-*'] },
    });
    const { det, alerts } = detector(h);
    accessLogs(det, {});
    await h.responder.drain();
    assert.deepEqual(h.actions, []);
    assert.deepEqual([...new Set(alerts.map(ruleOf))], ['dockward-miner-pool-log'], 'a pool name in a request is the medium lead, not the critical miner rule');
    assert.equal(h.audits.length, 7);
    for (const a of h.audits) {
      assert.equal(response(a).outcome, 'refused');
      assert.match(response(a).reason, /^log-evidence: /);
    }
    const refused = h.events.filter((e) => e.name === 'respond.refused');
    assert.equal(refused.length, 7);
    assert.match((refused[0].fields.dockward as { response: { reason: string } }).response.reason, /^log-evidence/);
  });

  it('the documented respond block pauses nothing on those requests either, even for opted-in containers', async () => {
    const h = harness({ ...documentedRespondBlock(), mode: 'enforce' });
    const { det } = detector(h);
    accessLogs(det, { 'dockward.respond': 'on' });
    await h.responder.drain();
    assert.deepEqual(h.actions, []);
    assert.ok(h.audits.every((a) => /^log-evidence/.test(response(a).reason)), h.audits.map((a) => response(a).reason).join('\n'));
  });

  it('the documented example does not restrict actions to web containers', () => {
    const block = documentedRespondBlock() as { deny?: { names?: string[] } };
    assert.ok(!block.deny?.names?.some((n) => n.startsWith('web')), JSON.stringify(block.deny));
  });

  it('a miner process (dockward-miner-process on a process document) is still paused, once', async () => {
    const h = harness({ ...documentedRespondBlock(), mode: 'enforce' });
    const { det, alerts } = detector(h);
    const id = cid(42);
    det.inspect(process(id, 'xmrig', 'xmrig -o stratum+tcp://198.51.100.20:3333 -u wallet'));
    await h.responder.drain();
    const miner = alerts.find((a) => ruleOf(a) === 'dockward-miner-process')!;
    assert.equal((miner.doc.dockward as { alert: { evidence: string } }).alert.evidence, 'process');
    assert.deepEqual(h.actions, [`pause ${id}`]);
    const done = h.audits.filter((a) => response(a).outcome === 'done');
    assert.deepEqual(done.map(ruleOf), ['dockward-miner-process']);
  });

  it('the miner\'s own output in its log is critical but, as log evidence, acted on only when a policy opts in', async () => {
    const line = '[2026-11-28 14:05:43\x1b[1;30m.363\x1b[0m] \x1b[44;1m\x1b[1;37m net     \x1b[0m \x1b[1;35mnew job\x1b[0m from \x1b[1;37m198.51.100.20:3333\x1b[0m diff \x1b[1;37m100001\x1b[0m algo \x1b[1;37mrx/0\x1b[0m';
    const feed = (h: Harness) => {
      const { det, alerts } = detector(h);
      det.inspect({ index: 'logs-dockward.container-default', id: 'm', doc: { message: line, container: { id: cid(7), name: 'batch-7', labels: {} }, data_stream: { dataset: 'dockward.container' } } });
      return alerts;
    };
    const off = harness({ policies: [{ rules: ['dockward-miner-*'], action: 'pause' }] });
    assert.deepEqual(feed(off).map(ruleOf), ['dockward-miner-log']);
    await off.responder.drain();
    assert.deepEqual(off.actions, []);
    // First matching policy that accepts the evidence wins: the second one opts the rule in.
    const on = harness({ policies: [{ rules: ['dockward-miner-*'], action: 'pause' }, { rules: ['dockward-miner-log'], evidence: ['log'], action: 'stop' }] });
    feed(on);
    await on.responder.drain();
    assert.deepEqual(on.actions, [`stop ${cid(7)}`]);
  });

  it('anomaly alerts (stats) and log-flood tamper alerts are weak evidence, refused by default', async () => {
    const h = harness({ policies: [{ min_severity: 'low', action: 'pause' }] });
    const { det, alerts } = detector(h);
    const container = { id: cid(9), name: 'api', labels: {} };
    det.raise(ANOMALY_RULE, { index: 'metrics-dockward.anomaly-default', id: 's', doc: { container, data_stream: { dataset: 'dockward.anomaly' } } });
    det.raise(TAMPER_RULES['log-flood'], { index: 'logs-dockward.event-default', id: 't', doc: { container, data_stream: { dataset: 'dockward.event' } } });
    det.raise(TAMPER_RULES['special-file'], { index: 'logs-dockward.event-default', id: 'u', doc: { container, data_stream: { dataset: 'dockward.event' } } });
    await h.responder.drain();
    assert.deepEqual(alerts.map((a) => (a.doc.dockward as { alert: { evidence: string } }).alert.evidence), ['stats', 'log', 'event']);
    assert.deepEqual(h.audits.map((a) => response(a).reason.split(':')[0]), ['stats-evidence', 'log-evidence', 'policy 0']);
    assert.deepEqual(h.actions, [`pause ${cid(9)}`]);
  });
});

describe('responder: rate limits per rule and per container', () => {
  it('one noisy rule leaves room in the global budget for a second rule', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'pause' }], rate_limit: 5, rate_limit_per_rule: 3 });
    for (let i = 1; i <= 5; i++) h.responder.annotate(alert('noisy-rule', { id: cid(i) }));
    h.responder.annotate(alert('real-incident', { id: cid(99) }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [1, 2, 3, 99].map((i) => `pause ${cid(i)}`));
    const refused = h.audits.filter((a) => response(a).outcome === 'refused').map((a) => response(a).reason);
    assert.deepEqual(refused, Array(2).fill('rate limit: 3 actions per minute for rule noisy-rule reached'));
  });

  it('the global limit still holds across rules, and a minute later there is room again', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'pause' }], rate_limit: 2, rate_limit_per_rule: 2 });
    ['a', 'b', 'c'].forEach((r, i) => h.responder.annotate(alert(r, { id: cid(i + 1) })));
    h.clock.now += 60_000;
    h.responder.annotate(alert('d', { id: cid(4) }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [1, 2, 4].map((i) => `pause ${cid(i)}`));
    assert.ok(h.audits.some((a) => response(a).reason === 'rate limit: 2 actions per minute reached'));
  });

  it('a container brought back again and again is acted on at most rate_limit_per_container times a minute', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'kill' }], rate_limit_per_container: 1 });
    const id = cid(5);
    h.responder.annotate(alert('r1', { id }));
    h.responder.engineEvent({ Type: 'container', Action: 'start', Actor: { ID: id }, time: 0, timeNano: 0, nano: 0n });
    h.responder.annotate(alert('r2', { id }));
    h.clock.now += 60_000;
    h.responder.annotate(alert('r3', { id }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [`kill ${id}`, `kill ${id}`]);
    assert.equal(response(h.audits.find((a) => ruleOf(a) === 'r2')!).reason, 'rate limit: 1 action per minute for this container reached');
  });
});

describe('responder: rearm after an action (review L3)', () => {
  const ev = (Type: string, Action: string, ID: string, Attributes?: Record<string, string>) => ({ Type, Action, Actor: { ID, Attributes }, time: 0, timeNano: 0, nano: 0n });

  it('unpausing a paused container lets a later incident act on it again', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'pause' }], rate_limit_per_container: 5 });
    const id = cid(3);
    h.responder.annotate(alert('r1', { id }));
    h.responder.annotate(alert('r2', { id }));
    h.responder.engineEvent(ev('container', 'unpause', id));
    h.responder.annotate(alert('r3', { id }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [`pause ${id}`, `pause ${id}`]);
    assert.match(response(h.audits.find((a) => ruleOf(a) === 'r2')!).reason, /^already handled for this container \(pause for rule r1\)/);
    assert.ok(h.events.some((e) => e.name === 'respond.rearmed' && e.message.includes('unpaused')));
  });

  it('a network connect rearms a disconnected container; unrelated events do not', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'disconnect' }], rate_limit_per_container: 5 });
    const id = cid(4);
    h.responder.annotate(alert('r1', { id }));
    h.responder.engineEvent(ev('container', 'pause', id));
    h.responder.engineEvent(ev('network', 'disconnect', 'net1', { container: id }));
    h.responder.annotate(alert('r2', { id }));
    h.responder.engineEvent(ev('network', 'connect', 'net1', { container: id }));
    h.responder.annotate(alert('r3', { id }));
    await h.responder.drain();
    const outcomes = h.audits.map((a) => [ruleOf(a), response(a).outcome]).sort((x, y) => x[0].localeCompare(y[0]));
    assert.deepEqual(outcomes, [['r1', 'done'], ['r2', 'refused'], ['r3', 'done']]);
  });

  it('without any event, rearm_after expires the memory of an action', async () => {
    const h = harness({ policies: [{ rules: ['*'], action: 'pause' }], rearm_after: '10m', rate_limit_per_container: 5 });
    const id = cid(6);
    h.responder.annotate(alert('r1', { id }));
    h.clock.now += 9 * 60_000;
    h.responder.annotate(alert('r2', { id }));
    h.clock.now += 60_000;
    h.responder.annotate(alert('r3', { id }));
    await h.responder.drain();
    assert.deepEqual(h.actions, [`pause ${id}`, `pause ${id}`]);
    assert.equal(response(h.audits.find((a) => ruleOf(a) === 'r2')!).outcome, 'refused');
  });
});
