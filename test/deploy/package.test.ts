import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference, referenceEntries } from '../../src/config/reference';

/**
 * The npm package (what `npm pack` puts in it), `dockward --version`, and the generated
 * configuration reference staying in step with the schema.
 */
const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  main: string;
  files: string[];
  engines: { node: string };
};

test('npm pack holds the built code, the rules and assets, and no tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [{ files }] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  const paths = files.map((f) => f.path);
  for (const must of ['package.json', 'README.md', pkg.bin.dockward, pkg.main, 'dist/src/config/schema.js', 'dist/src/cli/health.js']) {
    assert.ok(paths.includes(must), `${must} is in the package`);
  }
  assert.ok(paths.some((p) => /^rules\/.+\.ya?ml$/.test(p)), 'the built-in rules are in the package');
  assert.ok(paths.includes('rules/rule-file.schema.json'), 'the rule file schema is in the package');
  for (const dir of ['kibana', 'pipelines', 'watchers']) {
    let present = false;
    try {
      present = execFileSync('git', ['ls-files', dir], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    } catch {
      present = false;
    }
    if (present) assert.ok(paths.some((p) => p.startsWith(`${dir}/`)), `${dir}/ assets are in the package`);
  }
  const forbidden = paths.filter((p) => /^(dist\/)?(test|bench)\//.test(p) || /^src\//.test(p) || /\.test\.js$/.test(p) || p.startsWith('node_modules/') || p.startsWith('scripts/'));
  assert.deepEqual(forbidden, [], 'no tests, benches, TypeScript sources or scripts');
});

test('engines names the tested Node versions', () => {
  // The suite runs on Node 20 (the machine's); the image tests run dockward on Node 24 (the
  // image's base). Those two majors are claimed, no other.
  assert.equal(pkg.engines.node, '^20.19.0 || ^24.0.0');
  assert.ok([20, 24].includes(Number(process.versions.node.split('.')[0])), `running on Node ${process.versions.node}`);
});

test('dockward --version prints the version of package.json', () => {
  const out = execFileSync(process.execPath, [join(ROOT, pkg.bin.dockward), '--version'], { encoding: 'utf8' });
  assert.equal(out.trim(), pkg.version);
});

test('docs/configuration-reference.md is what `dockward config reference` generates from the schema', () => {
  const committed = readFileSync(join(ROOT, 'docs', 'configuration-reference.md'), 'utf8');
  const generated = renderReference();
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const i = a.findIndex((l, n) => l !== b[n]);
    assert.fail(
      `docs/configuration-reference.md is out of date with the config schema (first difference at line ${i + 1}:\n` +
        `  committed: ${a[i]}\n  generated: ${b[i]})\nregenerate it: npm run build && npm run docs:config`,
    );
  }
});

test('the reference names every key with a type, an env variable and an example', () => {
  const entries = referenceEntries();
  const keys = entries.map((e) => e.key);
  for (const k of ['namespace', 'state_dir', 'elasticsearch.hosts', 'queue.disk.max_bytes', 'http.port', 'shutdown_timeout']) assert.ok(keys.includes(k), k);
  for (const e of entries) {
    assert.ok(e.type && e.example, `${e.key}: type and example`);
    if (!e.key.includes('[]')) assert.equal(e.env, `DOCKWARD_${e.key.replace(/\./g, '__').replace('<name>', '<NAME>').toUpperCase()}`);
  }
  const port = entries.find((e) => e.key === 'http.port')!;
  assert.equal(port.default, '5066');
  assert.match(port.type, /integer/);
  assert.equal(entries.find((e) => e.key === 'output.flush_interval')!.type, 'duration');
  assert.equal(entries.find((e) => e.key === 'queue.disk.max_bytes')!.type, 'size');
  assert.match(entries.find((e) => e.key === 'queue.type')!.type, /`disk`, `memory`/);
});

test('the reference examples are values the loader accepts', async () => {
  const { loadConfig } = await import('../../src/config/load');
  for (const e of referenceEntries()) {
    if (!e.env || e.key.includes('<name>') || /\(keys below\)|— \w+: /.test(e.type) || /password|username|api_key/.test(e.key)) continue;
    const env = { [e.env]: e.example.replace(/^"(.*)"$/, '$1') };
    assert.doesNotThrow(() => loadConfig({ env }), `${e.env}=${e.example}`);
  }
});
