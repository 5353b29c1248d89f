import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** `top` every second: its engine events must still not be shipped. */
const POLL_FAST = ['collectors.processes.schedule=* * * * * *'];

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
    const dw = DockwardProcess.run({ namespace: ns, sets: POLL_FAST });
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
    const again = DockwardProcess.run({ namespace: ns, stateDir: dw.stateDir, sets: POLL_FAST });
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

  it('records docker cp both ways and kill with its signal', async () => {
    const dw = procs[procs.length - 1];
    const { id } = await runContainer(docker, { name: `${ns}-cp`, cmd: ['sleep', '300'] });
    const env = { ...process.env, DOCKER_HOST: engines().dockerHost };
    const dir = mkdtempSync(join(tmpdir(), 'dockward-cp-'));
    writeFileSync(join(dir, 'payload.sh'), 'echo pwned\n');
    execFileSync('docker', ['cp', join(dir, 'payload.sh'), `${id}:/tmp/payload.sh`], { env });
    execFileSync('docker', ['cp', `${id}:/etc/passwd`, join(dir, 'passwd')], { env });
    await docker.getContainer(id).kill({ signal: 'SIGUSR1' });
    await new Promise((r) => setTimeout(r, 2500)); // two `top` polls of this container happen meanwhile
    const q = { term: { 'container.id': id } };
    // The container's PID 1 ignores SIGUSR1: a kill event, no die.
    const want = ['extract-to-dir', 'archive-path', 'kill'];
    const docs = await (async () => {
      for (let i = 0; i < 60; i++) {
        const d = await fetchAll<EventDoc>(es, index, q);
        if (want.every((a) => d.some((x) => x.event.action === a))) return d;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`missing events:\n${dw.log.slice(-1500)}`);
    })();
    const kill = docs.find((d) => d.event.action === 'kill')!;
    assert.equal(kill.docker.event.actor.attributes.signal, '10', 'SIGUSR1');
    const extract = docs.find((d) => d.event.action === 'extract-to-dir')!;
    assert.deepEqual([extract.event.category, extract.event.type], [['file'], ['creation']]);
    assert.equal(docs.find((d) => d.event.action === 'archive-path')!.event.category[0], 'file');
    assert.equal(docs.filter((d) => d.event.action === 'top').length, 0, 'top events (from polling) are not shipped');
  });
});
