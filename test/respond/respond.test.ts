import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';
import { ownContainerId } from '../../src/respond/self';
import { Policy } from '../../src/respond/policy';
import { respondConfig } from '../../src/respond/policy';

/** A line as XMRig prints it (plain: no TTY colours), which rule dockward-miner-log (critical) matches. */
const MINER = '[2026-11-28 14:05:43.363]  net      new job from 127.0.0.1:3333 diff 100001 algo rx/0';
type Audit = { _id: string; message: string; container: { id: string }; event: { outcome: string; action: string }; dockward: { response: { outcome: string; action: string; mode: string; reason: string; alert: { id: string } } } };
type Alert = { _id: string; container: { id: string }; dockward: { alert: { response?: { audit_id: string; outcome: string; action: string } } } };

describe('response actions (real dockerd and Elasticsearch)', () => {
  const { docker } = engines();
  const es = adminClient();
  const dryNs = newNamespace('rsd');
  const ns = newNamespace('rse');
  let dry: DockwardProcess;
  let enforce: DockwardProcess;
  // A container's own log line is log evidence: the policy opts in (the test containers' logs carry no client input).
  const policy = 'respond.policies=[{rules: [dockward-miner-log], evidence: [log], action: pause}]';

  /** A container that prints a miner line after a second (rule dockward-miner-log, critical). */
  const victim = async (name: string, labels: Record<string, string> = {}) =>
    (await runContainer(docker, { name, cmd: ['sh', '-c', `sleep 1; echo "${MINER}"; sleep 300`], labels })).id;
  const state = async (id: string) => (await docker.getContainer(id).inspect()).State;

  async function auditFor(namespace: string, id: string): Promise<Audit> {
    const index = `logs-dockward.audit-${namespace}`;
    const n = await waitForCount(es, index, 1, 30_000, { term: { 'container.id': id } });
    assert.equal(n, 1, `audit documents for ${id.slice(0, 12)}`);
    return (await fetchAll<Audit>(es, index, { term: { 'container.id': id } }))[0];
  }
  async function alertFor(namespace: string, id: string): Promise<Alert> {
    const index = `logs-dockward.alert-${namespace}`;
    await waitForCount(es, index, 1, 30_000, { term: { 'container.id': id } });
    return (await fetchAll<Alert>(es, index, { term: { 'container.id': id } }))[0];
  }

  before(async () => {
    dry = DockwardProcess.run({ namespace: dryNs, sets: ['collectors.processes.enabled=false', 'respond.enabled=true', policy] });
    enforce = DockwardProcess.run({
      namespace: ns,
      sets: [
        'collectors.processes.enabled=false',
        'respond.enabled=true',
        'respond.mode=enforce',
        policy,
        'respond.rate_limit=2',
        'respond.allow={labels: {trusted: "yes"}}',
        `respond.deny={names: ["${ns}-bad-*"]}`,
      ],
    });
    await Promise.all([dry.waitFor(/dockward running/), enforce.waitFor(/dockward running/)]);
  });
  after(async () => {
    await Promise.all([dry?.kill(), enforce?.kill()]);
    await Promise.all([removeContainers(docker, dryNs), removeContainers(docker, ns)]);
    await es.close();
  });

  it('dry-run is the default: an audit document says what it would do; the container keeps running', async () => {
    const id = await victim(`${dryNs}-victim`);
    const audit = await auditFor(dryNs, id);
    assert.equal(audit.dockward.response.outcome, 'dry_run');
    assert.equal(audit.dockward.response.mode, 'dry_run');
    assert.match(audit.message, new RegExp(`^dry run: would pause ${dryNs}-victim`));
    const alert = await alertFor(dryNs, id);
    assert.equal(alert.dockward.alert.response?.audit_id, audit._id, 'the alert references its audit document');
    assert.equal(audit.dockward.response.alert.id, alert._id, 'and the audit document its alert');
    await new Promise((r) => setTimeout(r, 1000));
    const s = await state(id);
    assert.equal(s.Running, true);
    assert.equal(s.Paused, false);
  });

  it('enforce: the attacked container is really paused, and the alert references the audit document', async () => {
    const id = await victim(`${ns}-bad-victim`);
    const audit = await auditFor(ns, id);
    assert.equal(audit.dockward.response.outcome, 'done', audit.message);
    assert.equal(audit.event.outcome, 'success');
    assert.equal(audit.event.action, 'container-pause');
    assert.equal((await state(id)).Paused, true);
    const alert = await alertFor(ns, id);
    assert.deepEqual(alert.dockward.alert.response, { audit_id: audit._id, audit_index: `logs-dockward.audit-${ns}`, action: 'pause', mode: 'enforce', outcome: 'requested' });
  });

  it('an allow-listed container is never touched, and the refusal is audited', async () => {
    const id = await victim(`${ns}-bad-trusted`, { trusted: 'yes' });
    const audit = await auditFor(ns, id);
    assert.equal(audit.dockward.response.outcome, 'refused');
    assert.equal(audit.dockward.response.reason, 'allow-listed (label trusted=yes)');
    const s = await state(id);
    assert.equal(s.Paused, false);
    assert.equal(s.Running, true);
  });

  it('a container not on the (non-empty) deny-list is refused', async () => {
    const id = await victim(`${ns}-other`);
    const audit = await auditFor(ns, id);
    assert.equal(audit.dockward.response.outcome, 'refused');
    assert.equal(audit.dockward.response.reason, 'not on the deny-list');
    assert.equal((await state(id)).Paused, false);
  });

  it('the rate limit holds: 2 actions a minute, the rest refused and audited', async () => {
    const ids = await Promise.all([1, 2, 3].map((i) => victim(`${ns}-bad-r${i}`)));
    const audits = await Promise.all(ids.map((id) => auditFor(ns, id)));
    const outcomes = audits.map((a) => a.dockward.response.outcome).sort();
    // The first test's pause used one of the two: one more is done, two are refused.
    assert.deepEqual(outcomes, ['done', 'refused', 'refused'], audits.map((a) => a.message).join('\n'));
    for (const a of audits.filter((x) => x.dockward.response.outcome === 'refused')) assert.match(a.dockward.response.reason, /^rate limit: 2 actions per minute/);
    const paused = await Promise.all(ids.map(async (id) => (await state(id)).Paused));
    assert.equal(paused.filter(Boolean).length, 1);
    const m = await enforce.metrics();
    assert.equal(m['dockward_responses_total{action=pause,outcome=done}'], 2);
  });

  it('dockward knows its own container from a real container\'s mountinfo and never acts on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-self-'));
    const c = await docker.createContainer({ name: `${ns}-self`, Image: 'dockward/busybox:1', Cmd: ['cat', '/proc/self/mountinfo'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    await c.wait();
    const logs = (await c.logs({ stdout: true, follow: false })) as Buffer;
    // Strip the engine's 8-byte frame headers: mountinfo lines are plain text.
    let text = '';
    for (let i = 0; i + 8 <= logs.length; ) {
      const len = logs.readUInt32BE(i + 4);
      text += logs.subarray(i + 8, i + 8 + len).toString();
      i += 8 + len;
    }
    writeFileSync(join(dir, 'mountinfo'), text);
    writeFileSync(join(dir, 'cgroup'), '0::/\n');
    assert.equal(ownContainerId(dir), c.id);
    const p = new Policy(respondConfig.parse({ enabled: true, mode: 'enforce', policies: [{ rules: ['*'], action: 'kill' }] }), ownContainerId(dir));
    const d = p.decide({ rule: { id: 'x' }, dockward: { alert: { severity: 'critical', evidence: 'process' } } }, { id: c.id, name: `${ns}-self`, labels: {} });
    assert.deepEqual(d, { kind: 'refused', action: 'kill', policy: 0, reason: 'the container is dockward itself' });
    // This test process is not in a container: nothing is mistaken for itself.
    assert.equal(ownContainerId(), undefined);
  });
});
