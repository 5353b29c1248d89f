import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DATA_VIEWS } from '../../src/kibana/data-views';
import { STREAMS as TEMPLATE_STREAMS } from '../../src/setup/index-templates';
import { retentionClass } from '../../src/setup/lifecycle-defs';
import { RETENTION_CLASSES, STREAM_CATALOG } from '../../src/setup/streams';

/** The repository root, from dist/test/setup (no engine helpers: this file stays a unit test). */
const ROOT = join(__dirname, '..', '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('stream catalog: one list, every other list derived or held to it', () => {
  it('the README\'s stream table lists exactly the catalog\'s streams', () => {
    const table = [...read('README.md').matchAll(/^\| `((?:logs|metrics)-dockward\.[a-z]+)-<ns>` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...table].sort(), STREAM_CATALOG.map((s) => `${s.type}-${s.dataset}`).sort());
  });

  it('templates, retention classes and data views come from it', () => {
    assert.deepEqual(TEMPLATE_STREAMS, STREAM_CATALOG.map((s) => [s.type, s.dataset]));
    for (const s of STREAM_CATALOG) {
      assert.ok(RETENTION_CLASSES.includes(retentionClass(s.dataset)));
      if (s.view) assert.equal(DATA_VIEWS.find((v) => v.id === s.view!.id)?.title, `${s.type}-${s.dataset}-*`);
    }
    // signals are kept as long as the alerts that name them
    assert.equal(retentionClass('dockward.signal'), retentionClass('dockward.alert'));
    const kibanaDoc = read('docs/kibana.md');
    for (const v of DATA_VIEWS.filter((x) => x.id !== 'dockward-logs')) assert.ok(kibanaDoc.includes(`\`${v.id.replace('dockward', '')}\``), `docs/kibana.md names data view ${v.id}`);
  });
});
