import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, engines } from '../support/engines';

/**
 * The npm package as a user gets it: `npm pack`, `npm install -g` of the tarball (into a prefix of
 * its own, dependencies from the registry as usual), then the installed `dockward` runs `check`
 * against the real engine and cluster, and prints its version.
 */
const dir = mkdtempSync(join(tmpdir(), 'dockward-npm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm pack, installed globally, runs dockward check against the engines', () => {
  const e = engines();
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string }>;
  const tarball = join(dir, packed[0].filename);
  const prefix = join(dir, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  const bin = join(prefix, 'bin', 'dockward');
  assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), version);
  // From a directory without dockward.yml, configured by variables as under systemd.
  const out = execFileSync(bin, ['check'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DOCKER_HOST: e.dockerHost, DOCKWARD_ELASTICSEARCH__HOSTS: `[${e.esUrl}]`, DOCKWARD_STATE_DIR: join(dir, 'state') },
  });
  assert.match(out, /^config ok/m, out);
  assert.match(out, /^rules ok: \d+ loaded/m, out);
  assert.match(out, /^docker ok: /m, out);
  assert.match(out, /^elasticsearch ok: /m, out);
});
