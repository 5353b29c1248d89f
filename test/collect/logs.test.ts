import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { count, fetchAll, waitForCount } from '../support/elasticsearch';

interface LogDoc {
  '@timestamp': string;
  message: string;
  stream: string;
  log?: { level?: string; flags?: string[] };
  container: { id: string; name: string; image: { name: string }; labels: Record<string, string>; runtime: string };
  host: { name: string; id?: string; os?: { kernel?: string } };
  agent: { id?: string };
  event: { kind: string; category: string[]; type: string[]; dataset: string; module: string; created: string };
  data_stream: { type: string; dataset: string; namespace: string };
  observer: { product: string; version: string };
  ecs: { version: string };
}

const UNICODE = 'héllo wörld ✓ 日本語 🐳';
const LONG = 'x'.repeat(40_000);
// 'a' then 12000 two-byte characters: the engine's 16 KiB split falls inside a character.
const SPLIT_CHAR = 'a' + 'é'.repeat(12_000);

/** Messages as a sorted list, long ones as length and hash, so a failure prints readably. */
function summary(messages: Iterable<string>): string[] {
  return [...messages].map((m) => (m.length > 80 ? `${m.slice(0, 10)}…(${m.length} chars, sha1 ${createHash('sha1').update(m).digest('hex').slice(0, 10)})` : m)).sort();
}

describe('logs collector (real dockerd → dockward → real Elasticsearch)', () => {
  const ns = newNamespace();
  const index = `logs-dockward.container-${ns}`;
  const { docker } = engines();
  const es = adminClient();
  let dockward: DockwardProcess | undefined;

  before(async () => removeContainers(docker, ns));
  after(async () => {
    await dockward?.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('indexes exactly the lines a container printed, with ECS fields', async () => {
    const script = [
      'echo "level=error something failed" >&2',
      `echo '${UNICODE}'`,
      'echo',
      `head -c ${LONG.length} /dev/zero | tr '\\0' x; echo`,
      "seq 1 100 | sed 's/^/out /'",
      "seq 1 50 | sed 's/^/err /' >&2",
    ].join('; ');
    const { id } = await runContainer(docker, { name: `${ns}-known`, cmd: ['sh', '-c', script], labels: { 'com.example.team': 'blue', tier: 'test' }, wait: true });
    dockward = DockwardProcess.run({ namespace: ns });
    // json-file stores each 16 KiB part as a JSON string, which replaces a cut character by U+FFFD;
    // the `local` driver keeps bytes, so the character must come out whole from there.
    const split = await runContainer(docker, {
      name: `${ns}-split`,
      cmd: ['sh', '-c', `printf a; head -c 12000 /dev/zero | tr '\\0' X | sed 's/X/é/g'; echo`],
      hostConfig: { LogConfig: { Type: 'local', Config: {} } },
      wait: true,
    });
    const expected = 1 + 1 + 1 + 1 + 100 + 50;
    const n = await waitForCount(es, index, expected, 60_000, { term: { 'container.id': id } }, dockward.alive);
    assert.equal(n, expected, `documents for the container\n${dockward.log.slice(-2000)}`);
    const docs = await fetchAll<LogDoc>(es, index, { term: { 'container.id': id } });
    const byMessage = new Map(docs.map((d) => [d.message, d]));
    assert.equal(byMessage.size, expected, 'every line once');

    const stdout = docs.filter((d) => d.stream === 'stdout').map((d) => d.message);
    const stderr = docs.filter((d) => d.stream === 'stderr').map((d) => d.message);
    assert.deepEqual(summary(stderr), summary(['level=error something failed', ...Array.from({ length: 50 }, (_, i) => `err ${i + 1}`)]));
    assert.deepEqual(summary(stdout), summary([UNICODE, '', LONG, ...Array.from({ length: 100 }, (_, i) => `out ${i + 1}`)]));

    const long = byMessage.get(LONG)!;
    assert.equal(long.message.length, 40_000);
    assert.deepEqual(long.log?.flags, ['partial'], 'a line the engine split at 16 KiB is joined and flagged');
    assert.equal(await waitForCount(es, index, 1, 30_000, { term: { 'container.id': split.id } }), 1);
    const [splitDoc] = await fetchAll<LogDoc>(es, index, { term: { 'container.id': split.id } });
    assert.deepEqual(summary([splitDoc.message]), summary([SPLIT_CHAR]), 'a character cut by the 16 KiB split survives (local driver)');
    assert.equal(byMessage.get('level=error something failed')!.log?.level, 'error');
    assert.equal(byMessage.get('out 1')!.log, undefined, 'no level is guessed');

    const d = byMessage.get('out 7')!;
    assert.equal(d.container.id, id);
    assert.equal(d.container.name, `${ns}-known`);
    assert.equal(d.container.image.name, 'dockward/busybox:1');
    assert.deepEqual(d.container.labels, { 'com.example.team': 'blue', tier: 'test' });
    assert.equal(d.container.runtime, 'docker');
    // The engine names the host (dockward in a container would otherwise name its own short id).
    const info = (await docker.info()) as { Name: string; ID: string; KernelVersion: string };
    assert.deepEqual({ name: d.host.name, id: d.host.id, kernel: d.host.os?.kernel }, { name: info.Name, id: info.ID, kernel: info.KernelVersion });
    assert.match(d.agent.id ?? '', /^[0-9a-f-]{36}$/, 'agent.id from the state directory');
    assert.deepEqual(
      { kind: d.event.kind, category: d.event.category, type: d.event.type, dataset: d.event.dataset, module: d.event.module },
      { kind: 'event', category: ['process'], type: ['info'], dataset: 'dockward.container', module: 'dockward' },
    );
    assert.ok(Date.parse(d.event.created) >= Date.parse(d['@timestamp']), 'created is when dockward read it');
    assert.deepEqual(d.data_stream, { type: 'logs', dataset: 'dockward.container', namespace: ns });
    assert.equal(d.observer.product, 'dockward');
    assert.match(d.ecs.version, /^\d+\.\d+\.\d+$/);
    assert.match(d['@timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/, 'engine timestamp with nanoseconds');

    const ds = await es.indices.getDataStream({ name: index }).catch(() => undefined);
    const backing = await es.indices.get({ index });
    assert.ok(Object.keys(backing)[0].startsWith(`.ds-${index}-`), `stored in a data stream (${Object.keys(backing)}; ${JSON.stringify(ds ?? {}).slice(0, 80)})`);
  });

  it('follows a container that starts after dockward, and a TTY container', async () => {
    await dockward!.waitFor(/dockward running/);
    const late = await runContainer(docker, { name: `${ns}-late`, cmd: ['sh', '-c', "sleep 1; seq 1 20 | sed 's/^/late /'"], wait: true });
    const tty = await runContainer(docker, { name: `${ns}-tty`, tty: true, cmd: ['sh', '-c', "seq 1 10 | sed 's/^/tty /'"], wait: true });
    const optOut = await runContainer(docker, { name: `${ns}-optout`, labels: { 'dockward.logs': 'false' }, cmd: ['sh', '-c', 'echo secret; sleep 5'] });
    assert.equal(await waitForCount(es, index, 20, 30_000, { term: { 'container.id': late.id } }, dockward!.alive), 20);
    assert.equal(await waitForCount(es, index, 10, 30_000, { term: { 'container.id': tty.id } }), 10);
    const ttyDocs = await fetchAll<LogDoc>(es, index, { term: { 'container.id': tty.id } });
    assert.deepEqual(new Set(ttyDocs.map((d) => d.message)), new Set(Array.from({ length: 10 }, (_, i) => `tty ${i + 1}`)), 'no \\r left from the TTY');
    assert.equal(await count(es, index, { term: { 'container.id': optOut.id } }), 0, 'label dockward.logs=false opts out');
    assert.equal(dockward!.log.split(`${ns}-optout`).length - 1, 0, 'an opted-out container is never followed');
  });
});
