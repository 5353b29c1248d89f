import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import winston from 'winston';
import { CursorStore } from '../../src/state/cursor-store';
import { Telemetry } from '../../src/telemetry/telemetry';
import { fill, fullDiskSkip, mountSmall, until } from '../support/full-disk';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
const events = async (t: Telemetry, name: string) => (await t.snapshot())[`dockward_events_total{event=${name}}`] ?? 0;

const LOG = { sec: 1700000000, nanos: 5 };

describe('CursorStore', () => {
  it('keeps cursors across a restart; get, keys and delete', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cursors-'));
    const a = new CursorStore(dir, quiet());
    a.set('logs/abc', LOG);
    a.set('logs/def', { sec: 2, nanos: 0 });
    a.set('events', '1700000000000000123');
    a.delete('logs/def');
    a.delete('toString'); // not a cursor: nothing to delete, nothing to write
    a.flush();
    const b = new CursorStore(dir, quiet());
    assert.deepEqual(b.get('logs/abc'), LOG);
    assert.equal(b.get('events'), '1700000000000000123');
    assert.deepEqual(b.keys('logs/'), ['logs/abc']);
    assert.equal(b.get('toString'), undefined);
  });

  it('keeps the cursor of a source it does not know (a newer version\'s) as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cursors-'));
    writeFileSync(join(dir, 'cursors.json'), JSON.stringify({ version: 1, cursors: { 'logs/abc': LOG, 'kernel/host': { seq: 7 } } }));
    const t = quiet();
    const c = new CursorStore(dir, t);
    assert.deepEqual(c.get('kernel/host'), { seq: 7 });
    assert.equal(t.health.degraded, false);
  });

  // l5-state.js of the security review, one case a row: every one used to exit (restart loop) or be silently wrong
  for (const [what, text] of [
    ['garbage', 'garbage'],
    ['empty', ''],
    ['truncated', JSON.stringify({ version: 1, cursors: { 'logs/abc': LOG } }).slice(0, 30)],
    ['cursors is an array', '{"version":1,"cursors":[]}'],
    ['version 2', '{"version":2,"cursors":{"logs/x":{"sec":1,"nanos":0}}}'],
    ['a log cursor that is a string', '{"version":1,"cursors":{"logs/x":"x"}}'],
    ['a log cursor without nanos', '{"version":1,"cursors":{"logs/x":{"sec":1}}}'],
    ['an events cursor that is not a number', '{"version":1,"cursors":{"events":"1e9"}}'],
    ['a key that is no cursor name', '{"version":1,"cursors":{"__proto__":{"sec":1,"nanos":0}}}'],
    ['JSON null', 'null'],
  ] as const) {
    it(`cursors.json ${what}: moved aside, said once with its path, and the store starts afresh`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cursors-'));
      writeFileSync(join(dir, 'cursors.json'), text);
      const t = quiet();
      const c = new CursorStore(dir, t, 1);
      assert.deepEqual(c.keys(''), [], 'nothing restored from it');
      const aside = readdirSync(dir).filter((n) => n.startsWith('cursors.json.corrupt-'));
      assert.equal(aside.length, 1);
      assert.equal(readFileSync(join(dir, aside[0]), 'utf8'), text, 'kept for the operator');
      assert.equal(await events(t, 'cursors.quarantined'), 1);
      const [h] = t.health.list();
      assert.equal(h.component, 'cursors');
      assert.ok(h.reason.includes(join(dir, aside[0])), h.reason);
      c.set('logs/y', { sec: 2, nanos: 0 });
      c.flush();
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'cursors.json'), 'utf8')), { version: 1, cursors: { 'logs/y': { sec: 2, nanos: 0 } } });
    });
  }

  it('a FIFO, a symlink or a directory named cursors.json is moved aside without blocking or following it', async () => {
    for (const plant of ['fifo', 'symlink', 'dir'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'cursors-'));
      const file = join(dir, 'cursors.json');
      if (plant === 'fifo') execFileSync('mkfifo', [file]);
      if (plant === 'dir') mkdirSync(file);
      if (plant === 'symlink') {
        writeFileSync(join(dir, 'target'), JSON.stringify({ version: 1, cursors: { 'logs/x': LOG } }));
        symlinkSync(join(dir, 'target'), file);
      }
      const t = quiet();
      const c = new CursorStore(dir, t);
      assert.deepEqual(c.keys(''), [], plant);
      assert.equal(await events(t, 'cursors.quarantined'), 1, plant);
      c.set('logs/y', LOG);
      c.flush();
      assert.deepEqual(new CursorStore(dir, quiet()).get('logs/y'), LOG, plant);
    }
  });
});

// Never skipped: without root the run fails loudly (a skipped test is a failure).
if (fullDiskSkip) throw new Error(fullDiskSkip);

describe('CursorStore on a full disk (ENOSPC)', () => {
  let mnt = '';
  let unmount = () => {};
  before(() => ({ dir: mnt, unmount } = mountSmall('cursors-full-')));
  after(() => unmount());

  it('a failed save keeps the cursors in memory, is said once, retried, and written once space is back', async () => {
    const dir = join(mnt, 'state');
    const t = quiet();
    const c = new CursorStore(dir, t, 10);
    const filler = join(mnt, 'filler');
    fill(filler);
    // enough cursors that the file needs a block the disk no longer has
    for (let i = 0; i < 200; i++) c.set(`logs/${String(i).padStart(64, '0')}`, LOG);
    await until('the save to fail', () => t.health.list().some((h) => h.component === 'cursors.write'));
    c.flush(); // as at shutdown: never throws
    await new Promise((r) => setTimeout(r, 100)); // retries fail meanwhile
    assert.equal(await events(t, 'cursors.write_failed'), 1);
    assert.deepEqual(c.get(`logs/${'0'.repeat(64)}`), LOG, 'still in memory');
    assert.equal(existsSync(join(dir, 'cursors.json.tmp')), false, 'no partial file holds the space');
    unlinkSync(filler);
    await until('the save to work again', () => !t.health.degraded);
    assert.equal(await events(t, 'cursors.write_recovered'), 1);
    assert.equal(Object.keys(JSON.parse(readFileSync(join(dir, 'cursors.json'), 'utf8')).cursors).length, 200);
  });
});
