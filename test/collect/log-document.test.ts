import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createdClock, logDocument, type LogFields } from '../../src/collect/log-document';
import { baseFields, containerFields } from '../../src/enrich/ecs';
import type { ContainerMeta } from '../../src/enrich/metadata';

const meta = {
  id: 'a'.repeat(64),
  name: 'web "quoted" \u2028name',
  image: 'nginx:1.27',
  imageId: 'sha256:' + 'b'.repeat(64),
  labels: { 'com.example/tier': 'web', '\u0000odd': 'x"\\y', toString: 'z' },
  logDriver: 'json-file',
} as unknown as ContainerMeta;

describe('log documents built from per-container pieces', () => {
  const build = logDocument('dockward.container', containerFields(meta), baseFields('logs', 'dockward.container', 'default'));

  it('the JSON is exactly JSON.stringify of the object, whatever the container wrote', () => {
    // What a container controls: the message, in every shape JSON must escape.
    const messages = ['plain', '', 'quote " backslash \\ slash /', 'tab\tnewline\ncr\r', '\u0000\u001f\u007f', 'é ü 漢字 🎉', '\ud800 lone high', 'lone low \udfff', '\u2028\u2029', '{"json":"inside"}', 'x'.repeat(70_000)];
    const logs: LogFields['log'][] = [undefined, { level: 'error' }, { flags: ['truncated'] }, { level: 'warn', flags: ['truncated', 'partial'] }];
    for (const message of messages) {
      for (const log of logs) {
        for (const stream of ['stdout', 'stderr'] as const) {
          const { doc, json } = build({ time: '2026-12-03T10:00:00.123456789Z', message, stream, log, created: '2026-12-03T10:00:01.000Z' });
          assert.equal(json, JSON.stringify(doc), `${JSON.stringify(message.slice(0, 40))} ${JSON.stringify(log)}`);
          assert.equal(JSON.parse(json).message, JSON.parse(JSON.stringify(message)));
        }
      }
    }
  });

  it('the object carries every field rules and anomaly signals read', () => {
    const { doc } = build({ time: 't', message: 'm', stream: 'stderr', log: { level: 'error' }, created: 'c' });
    assert.deepEqual(Object.keys(doc), ['@timestamp', 'message', 'stream', 'log', 'container', 'event', 'data_stream', 'ecs', 'host', 'observer', 'agent']);
    assert.equal((doc.data_stream as { dataset: string }).dataset, 'dockward.container');
    assert.equal((doc.container as { id: string }).id, meta.id);
  });

  it('event.created: one ISO string per millisecond, a fresh one when the clock moves', () => {
    // A given clock: two real calls may straddle a millisecond (this test flaked so on Date.now).
    let now = Date.UTC(2026, 11, 3, 10, 0, 0, 1);
    const clock = createdClock(() => now);
    const a = clock();
    assert.equal(clock(), a);
    assert.equal(a, '2026-12-03T10:00:00.001Z');
    now += 1;
    assert.equal(clock(), '2026-12-03T10:00:00.002Z');
  });
});
