import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';

/**
 * The real engine behind a unix-socket proxy that holds every log request unanswered: an engine
 * slow to answer, which a healthy one never is on demand. Everything else passes through.
 */
class HoldLogsProxy {
  readonly path = join(mkdtempSync(join(tmpdir(), 'dw-holdlogs-')), 'docker.sock');
  held = 0;
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly upstream: string) {}

  async listen(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    if (/\/containers\/[^/]+\/logs\?/.test(req.url ?? '')) {
      this.held++;
      return; // never answered
    }
    const up = request({ socketPath: this.upstream, path: req.url, method: req.method, headers: req.headers, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      res.flushHeaders(); // a stream (/events) answers with headers before its first event
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    // The engine's side of a stream (/events) lives on after dockward's side closed: it would keep this process alive.
    res.on('close', () => up.destroy());
    req.pipe(up);
  }
}

const ONLY_LOGS = ['events', 'processes', 'exec', 'stats', 'drift', 'config', 'connections', 'posture', 'kernel'].map((c) => `collectors.${c}.enabled=false`);

describe('stopping while the engine has not answered a log request (real dockerd behind a holding proxy)', () => {
  const ns = newNamespace('logstop');
  const { docker, dockerHost } = engines();
  const proxy = new HoldLogsProxy(dockerHost.slice('unix://'.length));
  let dw: DockwardProcess | undefined;

  before(async () => {
    await removeContainers(docker, ns);
    await proxy.listen();
  });
  after(async () => {
    await dw?.kill();
    await proxy.close();
    await removeContainers(docker, ns);
  });

  it('SIGTERM ends the pending follow of a quiet container at once, not when the container exits', async () => {
    // Quiet for ten minutes: before the fix the follow request held stop until this container exited.
    await runContainer(docker, { name: `${ns}-quiet`, cmd: ['sleep', '600'] });
    dw = DockwardProcess.run({ namespace: ns, sets: [...ONLY_LOGS, 'shutdown_timeout=30s'], env: { DOCKER_HOST: `unix://${proxy.path}` } });
    await dw.waitFor(/dockward running/);
    const deadline = Date.now() + 30_000;
    while (proxy.held === 0) {
      dw.alive();
      assert.ok(Date.now() < deadline, `no log request reached the engine in 30 s:\n${dw.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = dw.kill('SIGTERM');
    // Far below the 30 s shutdown_timeout: an overrun (the old hang, now bounded) would fail here.
    const outcome = await Promise.race([exited.then((code) => `exit ${code}`), new Promise((r) => setTimeout(() => r('still running'), 20_000).unref())]);
    assert.equal(outcome, 'exit 0', `dockward had not exited 20 s after SIGTERM with a log request pending:\n${dw.log.slice(-2000)}`);
    assert.doesNotMatch(dw.log, /pipeline\.stop\.overrun|had not stopped/);
    assert.doesNotMatch(dw.log, /logs\.follow\.failed/, 'an aborted request at stop is no failure');
    assert.match(dw.log, /dockward stopped; all read documents delivered/);
  });
});
