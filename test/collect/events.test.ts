import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';

interface EventDoc {
  '@timestamp': string;
  message: string;
  event: { kind: string; category: string[]; type: string[]; action: string; dataset: string };
  container?: { id: string; name: string; image?: { name: string } };
  process?: { exit_code?: number };
  docker: { event: { type: string; action: string; time_nano: string; actor: { id: string; attributes: Record<string, string> } } };
  data_stream: { dataset: string };
}

describe('events collector (real engine events → Elasticsearch)', () => {
  const ns = newNamespace('ev');
  const index = `logs-dockward.event-${ns}`;
  const { docker } = engines();
  const es = adminClient();
  const procs: DockwardProcess[] = [];

  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await removeContainers(docker, ns);
    await es.close();
  });

  it('indexes a container lifecycle with ECS categories, and resumes after a restart without twins', async () => {
    const dw = DockwardProcess.run({ namespace: ns });
    procs.push(dw);
    await dw.waitFor(/dockward running/);
    await new Promise((r) => setTimeout(r, 500)); // the event stream connects right after start
    const { id } = await runContainer(docker, { name: `${ns}-life`, cmd: ['sh', '-c', 'exit 3'], labels: { app: 'probe' }, wait: true });
    await docker.getContainer(id).remove();
    const q = { term: { 'container.id': id } };
    assert.equal(await waitForCount(es, index, 4, 30_000, q, dw.alive), 4, dw.log.slice(-2000));
    // Let the cursor reach disk, then stop hard: the restart replays from the engine's buffer.
    await new Promise((r) => setTimeout(r, 1500));
    await dw.kill('SIGKILL');
    const again = DockwardProcess.run({ namespace: ns, stateDir: dw.stateDir });
    procs.push(again);
    await again.waitFor(/dockward running/);
    await new Promise((r) => setTimeout(r, 2500));
    const docs = await fetchAll<EventDoc>(es, index, q);
    const actions = docs.map((d) => d.event.action).sort();
    assert.deepEqual(actions, ['create', 'destroy', 'die', 'start'], 'each event once');
    const die = docs.find((d) => d.event.action === 'die')!;
    assert.deepEqual([die.event.category, die.event.type], [['process'], ['end']]);
    assert.equal(die.process?.exit_code, 3);
    assert.equal(die.container?.name, `${ns}-life`);
    assert.equal(die.container?.image?.name, 'dockward/busybox:1');
    assert.equal(die.docker.event.actor.attributes.app, 'probe');
    assert.match(die.docker.event.time_nano, /^\d{19}$/);
    const create = docs.find((d) => d.event.action === 'create')!;
    assert.deepEqual([create.event.category, create.event.type], [['configuration'], ['creation']]);
    assert.equal(create.data_stream.dataset, 'dockward.event');
  });
});
