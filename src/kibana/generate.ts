import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { esQueryRules } from '../setup/alert-rules';
import { PIPELINES } from '../setup/pipeline-defs';
import { watchersConfig } from '../setup/setup-config';
import { watchDefs } from '../setup/watch-defs';
import { toNdjson } from './bundle';

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/**
 * Every committed asset file, by path under the repository root, generated from the typed source.
 * A test regenerates them and fails when the committed copies drifted.
 */
export function generatedFiles(): Record<string, string> {
  const cfg = watchersConfig.parse({});
  const files: Record<string, string> = { 'kibana/dockward.ndjson': toNdjson() };
  for (const { id: _id, ...body } of PIPELINES) files[`pipelines/${_id}.json`] = json(body);
  for (const d of watchDefs({ cfg, namespace: '*' })) {
    const { id, ...body } = d.body;
    files[`watchers/${id}.json`] = json(body);
  }
  for (const r of esQueryRules(cfg)) files[`watchers/kibana-rules/${r.id}.json`] = json(r.rule);
  return files;
}

if (require.main === module) {
  // Run from dist/src/kibana: the repository root is three levels up.
  const root = process.argv[2] ?? join(__dirname, '..', '..', '..');
  for (const [path, content] of Object.entries(generatedFiles())) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}
