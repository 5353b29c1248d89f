import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { parse } from 'yaml';
import { ROOT, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer, seqCommand } from '../support/containers';
import { waitForCount } from '../support/elasticsearch';
import { buildImage, containerLogs, freePort, readableCa, socketGid, socketPath, waitForHealth } from './image';

/**
 * docker-compose.yml: its structure (what a first `docker compose up` relies on), Debian's
 * docker-compose (1.29) validating it with each override, and its dockward services run for real
 * against the local engines through test/deploy/compose.local.yml. Elasticsearch and Kibana images
 * cannot be pulled here, so those services are checked, not started.
 */
type Service = {
  image?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
  environment?: Record<string, string>;
  volumes?: string[];
  read_only?: boolean;
  group_add?: string[];
  command?: unknown;
  user?: string;
  pid?: string;
  cap_add?: string[];
  network_mode?: string;
  profiles?: string[];
};
type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const file = (name: string) => readFileSync(join(ROOT, name), 'utf8');
const compose = parse(file('docker-compose.yml')) as ComposeFile;
const OVERRIDES = ['deploy/compose/full.yml', 'deploy/compose/socket-proxy.yml'];

/** Variables a compose file interpolates (`${NAME}`, `${NAME:-default}`, `${NAME:?err}`). */
function variables(text: string): Set<string> {
  const out = new Set<string>();
  // `$$` escapes a literal `$` for the container's shell; those are not compose variables.
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)) out.add(m[1]);
  return out;
}

function envExample(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of file('.env.example').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** Inside the setup service's shell script, `${ELASTIC_PASSWORD}` is compose's too. */
const ENV = {
  ELASTIC_PASSWORD: 'elastic-pw',
  KIBANA_PASSWORD: 'kibana-pw',
  DOCKWARD_ES_PASSWORD: 'dockward-pw',
};

function dockerCompose(args: string[], env: Record<string, string> = {}): string {
  return execFileSync('docker-compose', ['--project-directory', ROOT, '--env-file', join(ROOT, '.env.example'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 5 * 60_000,
  });
}

test('services, their order and health checks', () => {
  const s = compose.services;
  for (const name of ['setup', 'es01', 'kibana', 'dockward-setup', 'dockward']) assert.ok(s[name], `service ${name}`);
  assert.match(s.es01.image!, /elasticsearch\/elasticsearch:\$\{STACK_VERSION:-9\.2\.\d+\}$/);
  assert.match(s.kibana.image!, /kibana\/kibana:\$\{STACK_VERSION:-9\.2\.\d+\}$/);
  assert.match(envExample().get('STACK_VERSION')!, /^9\.2\.\d+$/);
  // Security on, TLS on HTTP and transport, certificates from the setup service.
  const es = s.es01.environment!;
  assert.equal(es['xpack.security.enabled'], 'true');
  assert.equal(es['xpack.security.http.ssl.enabled'], 'true');
  assert.equal(es['xpack.security.transport.ssl.enabled'], 'true');
  assert.ok(s.setup.volumes!.some((v) => v.startsWith('certs:')), 'setup writes the certs volume');
  assert.match(String(s.setup.command), /elasticsearch-certutil ca/);
  assert.match(String(s.setup.command), /kibana_system\/_password/);
  assert.match(String(s.setup.command), /_security\/user\/dockward/);
  // Order: setup → es01 → kibana → dockward-setup → dockward.
  assert.deepEqual(s.es01.depends_on, { setup: { condition: 'service_healthy' } });
  assert.deepEqual(s.kibana.depends_on, { es01: { condition: 'service_healthy' } });
  assert.deepEqual(s['dockward-setup'].depends_on, { es01: { condition: 'service_healthy' }, kibana: { condition: 'service_healthy' } });
  assert.deepEqual(s.dockward.depends_on, { 'dockward-setup': { condition: 'service_completed_successfully' } });
  for (const name of ['setup', 'es01', 'kibana']) assert.ok(s[name].healthcheck?.test, `${name} has a health check`);
  // The shipper: the image's own HEALTHCHECK (not disabled), read-only root, the socket read-only
  // through its group, state on a volume, the least-privilege user.
  assert.equal(s.dockward.healthcheck, undefined);
  assert.deepEqual(s['dockward-setup'].command, ['setup']);
  assert.deepEqual(s.dockward.command, ['run']);
  for (const name of ['dockward-setup', 'dockward']) assert.equal(s[name].read_only, true, `${name} read_only`);
  assert.ok(s.dockward.volumes!.includes('${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock:ro'));
  assert.ok(s.dockward.volumes!.some((v) => v.endsWith(':/var/lib/dockward')));
  assert.deepEqual(s.dockward.group_add, ['${DOCKER_GID:-999}']);
  assert.equal(s.dockward.user, undefined, 'socket mode runs as the image user (non-root)');
  assert.equal(s.dockward.environment!.DOCKWARD_ELASTICSEARCH__USERNAME, 'dockward');
  // Every named volume a service uses is declared.
  for (const [name, svc] of Object.entries(s)) {
    for (const v of svc.volumes ?? []) {
      const source = v.split(':')[0];
      if (!source.startsWith('/') && !source.startsWith('$') && !source.startsWith('.')) assert.ok(compose.volumes?.[source] !== undefined, `${name}: volume ${source} declared`);
    }
  }
});

test('.env.example names every variable the compose files use, and no other', () => {
  const used = new Set<string>();
  for (const f of ['docker-compose.yml', ...OVERRIDES]) for (const v of variables(file(f))) used.add(v);
  const example = envExample();
  for (const v of used) assert.ok(example.has(v), `${v} is used by a compose file but missing from .env.example`);
  for (const v of example.keys()) assert.ok(used.has(v), `${v} is in .env.example but no compose file uses it`);
  // The secrets are empty in the example: the compose file refuses to start without them.
  for (const v of Object.keys(ENV)) assert.equal(example.get(v), '', `${v} is left empty`);
});

test('docker-compose config validates the file alone and with each override', () => {
  const base = parse(dockerCompose(['-f', 'docker-compose.yml', 'config'])) as ComposeFile;
  assert.deepEqual(Object.keys(base.services).sort(), ['dockward', 'dockward-setup', 'es01', 'kibana', 'setup']);
  // Without the secrets it refuses, naming them.
  assert.throws(
    () => execFileSync('docker-compose', ['--project-directory', ROOT, '--env-file', join(ROOT, '.env.example'), '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      stdio: 'pipe',
    }),
    /ELASTIC_PASSWORD/,
  );

  const full = parse(dockerCompose(['-f', 'docker-compose.yml', '-f', OVERRIDES[0], 'config'])) as ComposeFile;
  assert.equal(full.services.dockward.user, '0:0');
  assert.equal(full.services.dockward.pid, 'host');
  assert.equal(full.services.dockward.network_mode, 'host');
  assert.deepEqual(full.services.dockward.cap_add, ['NET_ADMIN']);

  const proxied = parse(dockerCompose(['-f', 'docker-compose.yml', '-f', OVERRIDES[1], 'config'])) as ComposeFile;
  const vols = (proxied.services.dockward.volumes ?? []) as unknown as Array<string | { source?: string; target: string }>;
  const sock = vols.map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v)).find((v) => v.target === '/var/run/docker.sock');
  assert.equal(sock?.source, '/dev/null', 'behind the proxy the shipper holds no socket');
  assert.equal(proxied.services.dockward.environment!.DOCKER_HOST, 'tcp://socket-proxy:2375');
  assert.equal(proxied.services.dockward.depends_on!['socket-proxy'].condition, 'service_healthy');
  const proxyEnv = proxied.services['socket-proxy'].environment!;
  assert.equal(proxyEnv.POST, '0', 'read-only: no POST');
  for (const k of ['CONTAINERS', 'EVENTS', 'EXEC', 'INFO', 'VERSION', 'PING']) assert.equal(proxyEnv[k], '1', `${k} allowed`);
  for (const k of ['IMAGES', 'NETWORKS', 'VOLUMES', 'BUILD', 'SWARM', 'SECRETS', 'AUTH']) assert.equal(proxyEnv[k], '0', `${k} denied`);
});

let project = '';
let certs = '';
before(() => {
  project = newNamespace('dwc');
  // Also installs docker-compose when missing.
  process.env.DWTEST_COMPOSE_IMAGE = buildImage();
});
after(async () => {
  if (!project) return;
  try {
    dockerCompose(['-p', project, '-f', 'docker-compose.yml', '-f', 'test/deploy/compose.local.yml', 'down', '-v', '--remove-orphans'], composeEnv());
  } catch {
    /* best effort */
  }
  await removeContainers(engines().docker, `${project}-app`);
});

function composeEnv(extra: Record<string, string> = {}): Record<string, string> {
  const e = engines();
  return {
    DOCKER_HOST: e.dockerHost,
    DOCKWARD_IMAGE: process.env.DWTEST_COMPOSE_IMAGE ?? 'dockward:test',
    DOCKER_SOCKET: socketPath(e.dockerHost),
    DOCKER_GID: String(socketGid(e.dockerHost)),
    DOCKWARD_ES_HOSTS: `[${e.tls.url}]`,
    DOCKWARD_ES_CA: '[/certs/ca/ca.crt]',
    DOCKWARD_NAMESPACE: project,
    ELASTIC_PASSWORD: e.tls.admin.password,
    DOCKWARD_ES_PASSWORD: e.tls.writer.password,
    DWTEST_ADMIN_USER: e.tls.admin.username,
    DWTEST_CERTS: certs,
    DWTEST_INCLUDE: `[${project}-app*]`,
    ...extra,
  };
}

test('the dockward services of the compose file: setup once, then the shipper ships and is healthy', async () => {
  const e = engines();
  certs = readableCa(e.tls.ca);
  const port = await freePort();
  const files = ['-p', project, '-f', 'docker-compose.yml', '-f', 'test/deploy/compose.local.yml'];
  const env = composeEnv({ DOCKWARD_HTTP_PORT: String(port) });

  // One shot: templates, as the admin user.
  const setupOut = dockerCompose([...files, 'run', '--rm', '--no-deps', 'dockward-setup'], env);
  assert.match(setupOut, /index-management|template/i, setupOut);

  dockerCompose([...files, 'up', '-d', '--no-deps', 'dockward'], env);
  const id = dockerCompose([...files, 'ps', '-q', 'dockward'], env).trim();
  assert.ok(id, 'the shipper container exists');
  const info = await e.docker.getContainer(id).inspect();
  assert.equal(info.Config.User, '10001:10001');
  assert.equal(info.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(info.HostConfig.GroupAdd, [String(socketGid(e.dockerHost))]);

  const lines = 300;
  await runContainer(e.docker, { name: `${project}-app`, cmd: seqCommand('compose-line', lines), wait: true });
  const admin = new Client({ node: e.tls.url, auth: e.tls.admin, tls: { ca: readFileSync(e.tls.ca) } });
  try {
    const n = await waitForCount(admin, `logs-dockward.container-${project}`, lines, 60_000);
    assert.equal(n, lines, `shipped ${n} of ${lines}:\n${await containerLogs(e.docker, id)}`);
  } finally {
    await admin.close();
  }
  const health = await waitForHealth(e.docker, id, 'healthy', 90_000);
  assert.equal(health.status, 'healthy', `${health.log}\n${await containerLogs(e.docker, id)}`);
});
