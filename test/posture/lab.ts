import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { BUSYBOX } from '../support/engines';

export const HARDENED_IMAGE = 'dockward/posture-hardened:test';

/**
 * An image with USER 65534 and a HEALTHCHECK. It is made from the busybox image's files with the
 * root directory opened to 0755: on this engine's vfs storage every container's `/` takes the mode
 * of the imported tarball's root, and the busybox image's is 0700, so a non-root user could not
 * run anything in it.
 */
export async function hardenedImage(docker: Docker): Promise<string> {
  try {
    await docker.getImage(HARDENED_IMAGE).inspect();
    return HARDENED_IMAGE;
  } catch {
    // not built yet
  }
  const dir = mkdtempSync(join(tmpdir(), 'posture-img-'));
  try {
    const c = await docker.createContainer({ Image: BUSYBOX, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    await pipeline((await c.export()) as unknown as NodeJS.ReadableStream, createWriteStream(join(dir, 'in.tar')));
    await c.remove();
    execFileSync('mkdir', [join(dir, 'root')]);
    execFileSync('tar', ['-x', '-f', join(dir, 'in.tar'), '-C', join(dir, 'root')]);
    execFileSync('chmod', ['755', join(dir, 'root')]);
    execFileSync('tar', ['-c', '-f', join(dir, 'out.tar'), '-C', join(dir, 'root'), '.']);
    const stream = await docker.importImage(createReadStream(join(dir, 'out.tar')) as unknown as string, {
      repo: 'dockward/posture-hardened', tag: 'test',
      changes: ['ENV PATH=/bin', 'USER 65534:65534', 'HEALTHCHECK --interval=5s CMD true', 'CMD ["sleep", "300"]'],
    } as never);
    await new Promise((resolve, reject) => docker.modem.followProgress(stream as unknown as NodeJS.ReadableStream, (err) => (err ? reject(err) : resolve(undefined))));
    return HARDENED_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Verdicts = Record<string, 'passed' | 'failed' | 'not_applicable'>;

export interface LabContainer {
  id: string;
  name: string;
  running: boolean;
  image: string;
  expected: Verdicts;
}

/**
 * A plain root busybox container with no network and no limits, on this engine: what every
 * container check says about it. AppArmor/SELinux verdicts follow the engine's support (this
 * project's engine has neither; seccomp it has).
 */
function baseline(hostSecurity: string[], running: boolean): Verdicts {
  const has = (n: string) => hostSecurity.some((o) => o.startsWith(`name=${n}`));
  return {
    '4.1': 'failed', '5.2': has('apparmor') ? 'passed' : 'not_applicable', '5.3': has('selinux') ? 'failed' : 'not_applicable',
    '5.4': 'passed', '5.5': 'passed', '5.6': 'passed', '5.7': running ? 'passed' : 'not_applicable', '5.8': 'not_applicable',
    '5.10': 'passed', '5.11': 'failed', '5.12': 'failed', '5.13': 'failed', '5.14': 'not_applicable', '5.15': 'passed',
    '5.16': 'passed', '5.17': 'passed', '5.18': 'passed', '5.19': 'passed', '5.20': 'passed', '5.21': 'passed',
    '5.22': has('seccomp') ? 'passed' : 'not_applicable', '5.23': 'not_applicable', '5.24': 'not_applicable', '5.25': 'passed',
    '5.26': 'failed', '5.27': 'failed', '5.29': 'failed', '5.30': 'passed', '5.31': 'passed', '5.32': 'passed',
  };
}

/**
 * One hardened container and six misconfigured ones, each with the verdict every check must give.
 * The privileged one and the one with published ports are created but never started (this sandbox
 * cannot start a privileged container; the ports one would need the default bridge).
 */
export async function createLab(docker: Docker, prefix: string, socketPath: string): Promise<LabContainer[]> {
  const image = await hardenedImage(docker);
  const hostSecurity = ((await docker.info()) as { SecurityOptions?: string[] }).SecurityOptions ?? [];
  const has = (n: string) => hostSecurity.some((o) => o.startsWith(`name=${n}`));
  const specs: Array<{ name: string; start: boolean; image?: string; cmd?: string[]; host: Docker.HostConfig; expect: Verdicts }> = [
    {
      name: 'hardened', start: true, image,
      host: { ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, PidsLimit: 64, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
      expect: { '4.1': 'passed', '5.11': 'passed', '5.12': 'passed', '5.13': 'passed', '5.26': 'passed', '5.27': 'passed', '5.29': 'passed' },
    },
    { name: 'socket', start: true, host: { Binds: [`${socketPath}:/var/run/docker.sock`] }, expect: { '5.32': 'failed' } },
    { name: 'hostpid', start: true, host: { PidMode: 'host' }, expect: { '5.16': 'failed' } },
    { name: 'sysadmin', start: true, host: { CapAdd: ['SYS_ADMIN'] }, expect: { '5.4': 'failed' } },
    // No limits, restart always and an `exec --user root`: 5.24 fails, 5.23 (not privileged) passes.
    { name: 'nolimits', start: true, host: { RestartPolicy: { Name: 'always' } }, expect: { '5.15': 'failed', '5.23': 'passed', '5.24': 'failed' } },
    {
      name: 'privileged', start: false, host: { Privileged: true },
      expect: { '5.5': 'failed', '5.18': 'failed', '5.22': has('seccomp') ? 'failed' : 'not_applicable', '5.2': has('apparmor') ? 'failed' : 'not_applicable' },
    },
    {
      name: 'ports', start: false,
      host: { NetworkMode: 'default', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '80' }], '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] } },
      expect: { '5.8': 'failed', '5.14': 'failed', '5.30': 'failed' },
    },
  ];
  const out: LabContainer[] = [];
  for (const s of specs) {
    const name = `${prefix}-${s.name}`;
    const c = await docker.createContainer({
      name, Image: s.image ?? BUSYBOX, Cmd: s.cmd ?? (s.image ? undefined : ['sleep', '300']),
      HostConfig: { NetworkMode: 'none', ...s.host },
    });
    if (s.start) await c.start();
    // The engine lists only execs that still run in a container's ExecIDs: this one stays.
    if (s.name === 'nolimits') {
      const stream = await (await c.exec({ Cmd: ['sleep', '300'], User: 'root' })).start({ Detach: true });
      stream?.destroy(); // detached: nothing to read, and an open response would keep the test process alive
    }
    out.push({ id: c.id, name, running: s.start, image: s.image ?? BUSYBOX, expected: { ...baseline(hostSecurity, s.start), ...s.expect } });
  }
  return out;
}

/** The daemon checks on this project's engine (scripts/dockerd.sh flags) with the daemon.json the tests write. */
export const DAEMON_EXPECTED: Verdicts = {
  '2.1': 'failed', '2.2': 'not_applicable', '2.3': 'passed', '2.5': 'passed', '2.6': 'passed', '2.7': 'passed', '2.9': 'failed',
  '2.12': 'failed', '2.13': 'failed', '2.14': 'passed', '2.15': 'passed', '2.16': 'failed', '2.17': 'passed', '2.18': 'passed', '5.1': 'passed',
};
export const DAEMON_JSON = { 'log-level': 'info', 'no-new-privileges': true, 'live-restore': true };

/**
 * The engine's API on plain TCP, as `socat TCP-LISTEN:2375 UNIX:/var/run/docker.sock` would
 * expose it: a byte pipe to the real socket on 127.0.0.1, on a port of its own.
 */
export async function exposeEngine(socketPath: string): Promise<{ address: string; server: Server }> {
  const server = createServer((client) => {
    const engine = connect(socketPath);
    client.pipe(engine).pipe(client);
    const end = () => (client.destroy(), engine.destroy());
    client.on('error', end);
    engine.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, server };
}
