import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import { hostConfig, resolveHostIdentity, setHostIdentity } from '../../src/enrich/host';
import { baseFields } from '../../src/enrich/ecs';
import { engines } from '../support/engines';

describe('host identity: from the engine, the config on top, agent.id kept in the state directory (real dockerd)', () => {
  const { docker } = engines();
  const dirs: string[] = [];
  const stateDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'dw-host-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    setHostIdentity(undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("names the engine's host, its id and OS; every document's base fields carry them", async () => {
    const info = (await docker.info()) as { Name: string; ID: string; KernelVersion: string; OperatingSystem: string; Architecture: string };
    const warnings: string[] = [];
    const h = await resolveHostIdentity(docker, hostConfig.parse({}), stateDir(), (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
    assert.equal(h.source, 'engine');
    assert.deepEqual({ name: h.name, id: h.id, kernel: h.os?.kernel, os: h.os?.name, arch: h.architecture }, { name: info.Name, id: info.ID, kernel: info.KernelVersion, os: info.OperatingSystem, arch: info.Architecture });
    const base = baseFields('logs', 'dockward.container', 'default') as { host: Record<string, unknown>; agent: Record<string, unknown>; observer: Record<string, unknown> };
    assert.equal(base.host.name, info.Name);
    assert.equal(base.host.id, info.ID);
    assert.equal(base.observer.hostname, info.Name);
    assert.equal(base.agent.id, h.agentId);
    assert.equal(base.agent.ephemeral_id, h.ephemeralId);
  });

  it('agent.id is the same across restarts with one state directory, another with another; a damaged file is moved aside', async () => {
    const dir = stateDir();
    const warn = () => undefined;
    const a = await resolveHostIdentity(docker, hostConfig.parse({}), dir, warn);
    const b = await resolveHostIdentity(docker, hostConfig.parse({}), dir, warn);
    assert.match(a.agentId!, /^[0-9a-f-]{36}$/);
    assert.equal(b.agentId, a.agentId);
    assert.notEqual(b.ephemeralId, a.ephemeralId, 'each start has its own ephemeral id');
    assert.equal(statSync(join(dir, 'agent.json')).mode & 0o777, 0o600);
    const other = await resolveHostIdentity(docker, hostConfig.parse({}), stateDir(), warn);
    assert.notEqual(other.agentId, a.agentId);

    writeFileSync(join(dir, 'agent.json'), '{"id": "not an id"}');
    const warnings: string[] = [];
    const c = await resolveHostIdentity(docker, hostConfig.parse({}), dir, (w) => warnings.push(w));
    assert.notEqual(c.agentId, a.agentId);
    assert.match(warnings.join('\n'), /does not hold an agent id \(moved aside/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('agent.json.corrupt-')), 'the damaged file is kept for the operator');
  });

  it('the config overrides name and id', async () => {
    const h = await resolveHostIdentity(docker, hostConfig.parse({ name: 'web-01.example', id: 'asset-42' }), stateDir(), () => undefined);
    assert.deepEqual({ name: h.name, id: h.id, source: h.source }, { name: 'web-01.example', id: 'asset-42', source: 'config' });
  });

  it("an engine that accepts and never answers: this machine's hostname within the time limit, and a warning", async () => {
    const dir = stateDir();
    const sock = join(dir, 'silent.sock');
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s)).listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      const warnings: string[] = [];
      const t0 = Date.now();
      const h = await resolveHostIdentity(new Docker({ socketPath: sock }), hostConfig.parse({}), dir, (w) => warnings.push(w), 500);
      assert.ok(Date.now() - t0 < 3000, 'bounded by the time limit');
      assert.deepEqual({ name: h.name, source: h.source, id: h.id }, { name: hostname(), source: 'os', id: undefined });
      assert.match(warnings.join('\n'), /engine's info is unavailable \(no answer within 500 ms\)/);
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  it('refuses a name or id that is empty or longer than 255 characters, naming the field', () => {
    const r = hostConfig.safeParse({ name: 'x'.repeat(256) });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues[0].path, ['name']);
    assert.equal(hostConfig.safeParse({ id: '' }).success, false);
  });
});
