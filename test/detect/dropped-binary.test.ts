import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroppedBinaryCorrelator } from '../../src/detect/dropped-binary';
import type { Envelope } from '../../src/ship/envelope';

const file = (container: string, path: string, type = 'creation'): Envelope => ({
  index: 'f', id: path, doc: { data_stream: { dataset: 'dockward.file' }, event: { type: [type] }, file: { path }, container: { id: container } },
});
const proc = (container: string, p: Record<string, unknown>): Envelope => ({
  index: 'p', id: JSON.stringify(p), doc: { data_stream: { dataset: 'dockward.process' }, event: { type: ['start'] }, process: p, container: { id: container } },
});
const dw = (env: Envelope) => env.doc.dockward as { process?: { dropped_binary?: boolean }; file?: { executed?: boolean } } | undefined;

describe('dropped binary correlation', () => {
  it('marks the process when the file was seen first, and the file when the process was', () => {
    const c = new DroppedBinaryCorrelator();
    c.observe(file('a', '/tmp/.x'));
    const p = proc('a', { name: '.x', executable: '/tmp/.x', args: ['/tmp/.x', '300'] });
    c.observe(p);
    assert.equal(dw(p)?.process?.dropped_binary, true);

    const q = proc('a', { name: 'payload', args: ['/dev/shm/payload'] });
    c.observe(q);
    assert.equal(dw(q), undefined);
    const f = file('a', '/dev/shm/payload');
    c.observe(f);
    assert.equal(dw(f)?.file?.executed, true);
    assert.deepEqual((f.doc.process as { args: string[] }).args, ['/dev/shm/payload'], 'the file document names the process that ran it');
  });

  it('keeps containers apart, ignores deletions and image binaries, resolves ./ from the working directory', () => {
    const c = new DroppedBinaryCorrelator();
    c.observe(file('a', '/tmp/x'));
    c.observe(file('a', '/tmp/gone', 'deletion'));
    for (const p of [proc('b', { executable: '/tmp/x' }), proc('a', { executable: '/tmp/gone' }), proc('a', { executable: '/usr/sbin/nginx' }), proc('a', { args: ['x'] })]) {
      c.observe(p);
      assert.equal(dw(p), undefined, JSON.stringify(p.doc.process));
    }
    const rel = proc('a', { args: ['./x'], working_directory: '/tmp/' });
    c.observe(rel);
    assert.equal(dw(rel)?.process?.dropped_binary, true);
    c.forget('a');
    const again = proc('a', { executable: '/tmp/x' });
    c.observe(again);
    assert.equal(dw(again), undefined, 'a forgotten container has no files');
  });

  it('argv[0] is a path only when it names the process; a run-then-deleted file still matches (review H3)', () => {
    const c = new DroppedBinaryCorrelator();
    c.observe(file('a', '/tmp/x'));
    c.observe(file('a', '/tmp/y'));
    // `exec -a /tmp/x nginx` in polling without the host's /proc: nginx runs, not /tmp/x.
    const spoof = proc('a', { name: 'nginx', args: ['/tmp/x', '-g'] });
    c.observe(spoof);
    assert.equal(dw(spoof), undefined);
    const deleted = proc('a', { name: 'y', executable: '/tmp/y (deleted)', args: ['/tmp/y'] });
    c.observe(deleted);
    assert.equal(dw(deleted)?.process?.dropped_binary, true);
  });

  it('stays bounded: the oldest paths are forgotten first', () => {
    const c = new DroppedBinaryCorrelator(60_000, 3);
    for (const p of ['/tmp/1', '/tmp/2', '/tmp/3', '/tmp/4']) c.observe(file('a', p));
    const old = proc('a', { executable: '/tmp/1' });
    const recent = proc('a', { executable: '/tmp/4' });
    c.observe(old);
    c.observe(recent);
    assert.equal(dw(old), undefined);
    assert.equal(dw(recent)?.process?.dropped_binary, true);
  });
});
