import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@elastic/elasticsearch';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer, seqCommand } from '../support/containers';
import { waitForCount } from '../support/elasticsearch';
import { buildImage, containerLogs, freePort, readableCa, socketGid, socketPath, waitForHealth } from './image';

/**
 * The container image, built from the locally imported base, run against the real dockerd and the
 * real test Elasticsearch in both documented modes, with the same settings docker-compose.yml
 * gives the shipper: read-only root filesystem, /tmp on tmpfs, a volume for the state, host
 * network (the only one this engine has). Each ships a container's logs end to end and reports
 * healthy through the image's own HEALTHCHECK (`dockward health`).
 */
// In a suite: the linger reporter counts a file-level hook's time as the process idling.
describe('the container image on the real engines', () => {
  let image: string;
  const prefixes: string[] = [];
  const volumes: string[] = [];

  before(() => {
    image = buildImage();
  });

  after(async () => {
    const { docker } = engines();
    for (const p of prefixes) await removeContainers(docker, p);
    for (const v of volumes) await docker.getVolume(v).remove({ force: true }).catch(() => undefined);
  });

  interface Mode {
    name: 'socket' | 'full';
    user?: string;
    hostConfig: Record<string, unknown>;
    env: string[];
  }

  async function runShipper(ns: string, mode: Mode): Promise<{ id: string; port: number }> {
    const e = engines();
    const port = await freePort();
    const volume = `${ns}-state`;
    volumes.push(volume);
    const c = await e.docker.createContainer({
      name: `${ns}-dockward`,
      Image: image,
      Cmd: ['run'],
      ...(mode.user !== undefined ? { User: mode.user } : {}),
      Env: [
        `DOCKWARD_NAMESPACE=${ns}`,
        `DOCKWARD_HTTP__PORT=${port}`,
        `DOCKWARD_COLLECTORS__LOGS__INCLUDE_NAMES=[${ns}-app*]`,
        'DOCKWARD_OUTPUT__FLUSH_INTERVAL=200ms',
        ...mode.env,
      ],
      // Its own container is excluded from its logs by include_names; its own label says so too.
      Labels: { 'dockward.logs': 'false' },
      HostConfig: {
        NetworkMode: 'host',
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': '' },
        Binds: [`${socketPath(e.dockerHost)}:/var/run/docker.sock:ro`, `${volume}:/var/lib/dockward`],
        SecurityOpt: ['no-new-privileges:true'],
        ...mode.hostConfig,
      },
    });
    await c.start();
    return { id: c.id, port };
  }

  async function shipsAndIsHealthy(ns: string, id: string, client: Client): Promise<void> {
    const { docker } = engines();
    const lines = 500;
    await runContainer(docker, { name: `${ns}-app`, cmd: seqCommand('image-line', lines), wait: true });
    const index = `logs-dockward.container-${ns}`;
    const alive = () => {
      // A shipper that died fails at once, with its log.
      void docker
        .getContainer(id)
        .inspect()
        .then((i) => {
          if (!i.State.Running) throw new Error('dockward container exited');
        });
    };
    const n = await waitForCount(client, index, lines, 60_000, undefined, alive);
    assert.equal(n, lines, `shipped ${n} of ${lines} lines:\n${await containerLogs(docker, id)}`);
    const docs = await client.search<{ message: string; container: { name: string }; host: { name: string } }>({ index, size: 1, sort: ['@timestamp'] });
    const first = docs.hits.hits[0]._source!;
    assert.equal(first.container.name, `${ns}-app`);
    // Inside its container os.hostname() is the container's short id: documents name the engine's host.
    assert.equal(first.host.name, ((await docker.info()) as { Name: string }).Name, 'host.name is the Docker host, not the dockward container');
    assert.match(first.message, /^image-line \d+$/);
    const health = await waitForHealth(docker, id, 'healthy', 90_000);
    assert.equal(health.status, 'healthy', `health ${health.status}:\n${health.log}\n${await containerLogs(docker, id)}`);
    assert.match(health.log, /healthy: \{"status":"ok"/);
  }

  test('socket mode: non-root through the socket group, TLS with the least-privilege user, ships and is healthy', async () => {
    const e = engines();
    const ns = newNamespace('imgs');
    prefixes.push(ns);
    const certs = readableCa(e.tls.ca);
    const { id } = await runShipper(ns, {
      name: 'socket',
      hostConfig: {
        GroupAdd: [String(socketGid(e.dockerHost))],
        CapDrop: ['ALL'],
        Binds: [`${socketPath(e.dockerHost)}:/var/run/docker.sock:ro`, `${ns}-state:/var/lib/dockward`, `${certs}:/certs:ro`],
      },
      env: [
        `DOCKWARD_ELASTICSEARCH__HOSTS=[${e.tls.url}]`,
        `DOCKWARD_ELASTICSEARCH__USERNAME=${e.tls.writer.username}`,
        `DOCKWARD_ELASTICSEARCH__PASSWORD=${e.tls.writer.password}`,
        'DOCKWARD_ELASTICSEARCH__SSL__CERTIFICATE_AUTHORITIES=[/certs/ca/ca.crt]',
      ],
    });
    const info = await e.docker.getContainer(id).inspect();
    assert.equal(info.Config.User, '10001:10001', 'the image runs as uid 10001 by default');
    const admin = new Client({ node: e.tls.url, auth: e.tls.admin, tls: { ca: (await import('node:fs')).readFileSync(e.tls.ca) } });
    try {
      await shipsAndIsHealthy(ns, id, admin);
    } finally {
      await admin.close();
    }
    // Without the kernel's privileges it says so and carries on.
    const logs = await containerLogs(e.docker, id);
    assert.doesNotMatch(logs, /EACCES|EROFS|read-only file system/i, logs);
  });

  test('full mode: root, host PIDs, CAP_NET_ADMIN — kernel process events on; ships and is healthy', async () => {
    const e = engines();
    const ns = newNamespace('imgf');
    prefixes.push(ns);
    const full = {
      name: 'full' as const,
      user: '0:0',
      hostConfig: { PidMode: 'host', CapAdd: ['NET_ADMIN'] },
      env: [`DOCKWARD_ELASTICSEARCH__HOSTS=[${e.esUrl}]`, 'DOCKWARD_COLLECTORS__KERNEL__ENABLED=true'],
    };
    // The same privileges for `dockward check`: the kernel's process connector answers.
    const check = await e.docker.createContainer({
      name: `${ns}-check`,
      Image: image,
      Cmd: ['check', '--offline'],
      User: '0:0',
      Env: ['DOCKWARD_COLLECTORS__KERNEL__ENABLED=true'],
      HostConfig: { NetworkMode: 'host', ReadonlyRootfs: true, PidMode: 'host', CapAdd: ['NET_ADMIN'] },
    });
    await check.start();
    const res = (await check.wait()) as { StatusCode: number };
    const out = await containerLogs(e.docker, check.id);
    assert.equal(res.StatusCode, 0, out);
    assert.match(out, /kernel process events ok/, out);

    const { id } = await runShipper(ns, full);
    // Closed after: its idle keep-alive sockets kept the file's process alive 21 s past its tests (CI at 3c8b6a3).
    const admin = adminClient();
    try {
      await shipsAndIsHealthy(ns, id, admin);
    } finally {
      await admin.close();
    }
    const logs = await containerLogs(e.docker, id);
    assert.doesNotMatch(logs, /kernel process events off/, logs);
  });
});
