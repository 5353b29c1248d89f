import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { engineLog, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { whereAreTheLines } from '../support/drill';
import { fetchAll, waitForCount } from '../support/elasticsearch';
import { BusyCores } from '../support/load';

/**
 * A follow stream ends when its container exits, possibly before the engine has sent the tail of
 * the log file (under load, the last ~2,000 lines of each drill container were never read). Every
 * way a stream ends is here, under two busy cores: a burst that exits on its own, a container
 * killed mid-burst, and one that stops while dockward is down. The engine's own log is the ground
 * truth: each of its lines must be in Elasticsearch exactly once.
 */
describe('logs: every line of a container that stops mid-burst (real dockerd → dockward → real Elasticsearch, both cores busy)', () => {
  const ns = newNamespace('drain');
  const index = `logs-dockward.container-${ns}`;
  const { docker } = engines();
  const es = adminClient();
  let busy: BusyCores | undefined;
  const procs: DockwardProcess[] = [];

  before(async () => {
    await removeContainers(docker, ns);
    busy = new BusyCores(2, 300_000);
  });
  after(async () => {
    busy?.stop();
    await Promise.all(procs.map((p) => p.kill()));
    await removeContainers(docker, ns);
    await es.close();
  });

  // About 2,500 lines/s until killed: enough to be mid-burst at any moment, bounded so the test's size is too.
  const forever = (tag: string) => ['sh', '-c', `i=0; while :; do i=$((i+1)); echo "${tag} $i"; [ $((i % 50)) = 0 ] && usleep 20000; done`];
  const stored = (id: string) => es.count({ index, query: { term: { 'container.id': id } }, ignore_unavailable: true }).then((r) => r.count, () => 0);
  const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; dockward's log:\n${procs.at(-1)?.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const exited = (id: string) => docker.getContainer(id).inspect().then((c) => !c.State.Running);

  it('container exit, a kill mid-burst, a stop while dockward is down: 0 missing, 0 duplicated', async () => {
    let dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.events.enabled=false'] });
    procs.push(dw);
    await dw.waitFor(/dockward running/, 120_000);
    const ids: string[] = [];
    // Bursts that exit on their own as fast as the engine takes them.
    for (let k = 0; k < 3; k++) ids.push((await runContainer(docker, { name: `${ns}-burst${k}`, cmd: ['sh', '-c', `seq 1 20000 | sed 's/^/burst${k} /'`] })).id);
    // Killed mid-burst.
    const killed = [];
    for (let k = 0; k < 2; k++) killed.push((await runContainer(docker, { name: `${ns}-kill${k}`, cmd: forever(`kill${k}`) })).id);
    ids.push(...killed);
    for (const id of killed) {
      await until(`lines of ${id.slice(0, 12)} in Elasticsearch`, async () => (await stored(id)) > 200, 120_000);
      await docker.getContainer(id).kill();
    }
    // Stopped while dockward is down: read on from the cursor after the restart.
    const late = (await runContainer(docker, { name: `${ns}-late`, cmd: forever('late') })).id;
    ids.push(late);
    await until('lines of the late container in Elasticsearch', async () => (await stored(late)) > 200, 120_000);
    await dw.kill('SIGKILL');
    await docker.getContainer(late).kill();
    for (const id of ids) await until(`container ${id.slice(0, 12)} to exit`, () => exited(id));
    dw = DockwardProcess.run({ namespace: ns, stateDir: dw.stateDir, sets: ['collectors.events.enabled=false'] });
    procs.push(dw);

    const expected = new Map<string, string[]>();
    for (const id of ids) expected.set(id, await engineLog(docker, id));
    const total = [...expected.values()].reduce((a, l) => a + l.length, 0);
    const n = await waitForCount(es, index, total, 180_000, { terms: { 'container.id': ids } }, () => dw.alive());
    if (n !== total) assert.fail(`${n} of ${total} engine lines in Elasticsearch.\n${await whereAreTheLines(es, index, ids, dw)}\n${dw.log.slice(-3000)}`);
    const docs = await fetchAll<{ message: string; container: { id: string } }>(es, index, { terms: { 'container.id': ids } });
    const seen = new Map<string, number>();
    for (const d of docs) seen.set(`${d.container.id} ${d.message}`, (seen.get(`${d.container.id} ${d.message}`) ?? 0) + 1);
    let missing = 0;
    for (const [id, lines] of expected) for (const l of lines) if (!seen.has(`${id} ${l}`)) missing++;
    const duplicated = [...seen.values()].reduce((a, c) => a + c - 1, 0);
    assert.deepEqual({ missing, duplicated }, { missing: 0, duplicated: 0 });
    // A read that failed would leave the drain to luck: none may have.
    for (const p of procs) assert.doesNotMatch(p.log, /logs\.follow\.failed|logs\.stream\.error/);
    console.log(`# drain: ${ids.length} containers, ${total} engine lines (bursts of 20,000; killed: ${killed.map((id) => expected.get(id)!.length).join(', ')}; stopped while dockward was down: ${expected.get(late)!.length}), all in Elasticsearch once`);
  });
});
