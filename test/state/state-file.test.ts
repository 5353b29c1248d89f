import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import winston from 'winston';
import type { ModelState } from '../../src/anomaly/model';
import { ModelStore } from '../../src/anomaly/store';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import { CursorStore } from '../../src/state/cursor-store';
import { writeStateFile } from '../../src/state/state-file';
import { Telemetry } from '../../src/telemetry/telemetry';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

// m4-modes.js of the security review: state was 755/644 under umask 022, the spool readable by every local user
describe('state files are private: directories 0700, files 0600, under umask 022', () => {
  let old = 0;
  before(() => (old = process.umask(0o022)));
  after(() => process.umask(old));

  it('the state dir, cursors.json, the spool and its segments, anomaly-models/ and its files', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'modes-')), 'state');
    const c = new CursorStore(dir, quiet());
    c.set('logs/x', { sec: 1, nanos: 0 });
    c.flush();
    const s = new DiskSpool(join(dir, 'spool'), spoolConfig.parse({}), quiet());
    s.push({ index: 'logs-x', id: '1', doc: { message: 'DB_PASSWORD=hunter2 printed by a container' } });
    await s.take(0, 0, 0);
    s.close();
    const model = { v: 2, samples: 1, signals: {} } as unknown as ModelState;
    await new ModelStore(dir, quiet()).save([{ id: 'c1', image: 'x', samples: 1, calm: false, snapshot: () => model }]);
    const models = readdirSync(join(dir, 'anomaly-models')).map((n) => join(dir, 'anomaly-models', n));
    assert.equal(models.length, 1);
    const segs = readdirSync(join(dir, 'spool')).map((n) => join(dir, 'spool', n));
    assert.equal(segs.length, 1);
    const got = [dir, join(dir, 'cursors.json'), join(dir, 'spool'), ...segs, join(dir, 'anomaly-models'), ...models].map((p) => `${mode(p)} ${p.slice(dir.length) || '/'}`);
    assert.deepEqual(got, ['700 /', '600 /cursors.json', '700 /spool', '600 /spool/0000000000000001.seg', '700 /anomaly-models', `600 /anomaly-models/${basename(models[0])}`]);
    s.dispose();
  });

  it('what an earlier version left world-readable is made private: the spool dir and segments at once, state files when next written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modes-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'spool'), { mode: 0o755 });
    writeFileSync(join(dir, 'spool', '0000000000000001.seg'), '', { mode: 0o644 });
    writeFileSync(join(dir, 'cursors.json'), JSON.stringify({ version: 1, cursors: {} }), { mode: 0o644 });
    const t = quiet();
    const c = new CursorStore(dir, t);
    assert.equal(mode(join(dir, 'cursors.json')), '600', 'set when read');
    // state_dir may be shared by its operator: said, not changed
    assert.equal(mode(dir), '755');
    assert.equal((await t.snapshot())['dockward_events_total{event=state.dir.open}'], 1);
    const s = new DiskSpool(join(dir, 'spool'), spoolConfig.parse({}), quiet());
    assert.equal(mode(join(dir, 'spool')), '700');
    assert.equal(mode(join(dir, 'spool', '0000000000000001.seg')), '600');
    s.dispose();
    c.flush();
  });

  it('a symlink planted as the temporary file is replaced, never written through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modes-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(dir, 'cursors.json.tmp'));
    writeStateFile(join(dir, 'cursors.json'), '{"version":1,"cursors":{}}');
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.ok(lstatSync(join(dir, 'cursors.json')).isFile());
    assert.equal(mode(join(dir, 'cursors.json')), '600');
  });
});
