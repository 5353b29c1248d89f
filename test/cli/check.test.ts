import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newNamespace } from '../support/engines';
import { DockwardProcess } from '../support/dockward';

describe('dockward check', () => {
  it('reports engine, cluster version and licence of the real engines', async () => {
    const p = DockwardProcess.run({ namespace: newNamespace(), command: ['check'] });
    assert.equal(await p.wait(), 0, p.log);
    assert.match(p.log, /docker ok: unix:\/\/.* — engine 2\d\./);
    assert.match(p.log, /elasticsearch ok: http:\/\/127\.0\.0\.1:\d+ — 9\.\d+\.\d+ on node/);
  });

  it('exits 2 naming file, line and key of a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockward-check-'));
    const file = join(dir, 'dockward.yml');
    writeFileSync(file, 'namespace: fine\noutput:\n  bulk_max_docs: many\n');
    const p = DockwardProcess.run({ namespace: newNamespace(), command: ['check', '--offline', '--config', file] });
    assert.equal(await p.wait(), 2);
    assert.match(p.log, new RegExp(`${file.replace(/[.]/g, '\\.')}:3: output\\.bulk_max_docs: `));
  });

  it('fails when Elasticsearch does not answer', async () => {
    const p = DockwardProcess.run({ namespace: newNamespace(), command: ['check'], sets: ['elasticsearch.hosts=[http://127.0.0.1:1]'] });
    assert.equal(await p.wait(), 1);
    assert.match(p.log, /elasticsearch FAILED/);
  });
});
