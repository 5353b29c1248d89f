import { LogDecoder } from '../../src/docker/log-decoder';
import type Docker from 'dockerode';
import { BUSYBOX } from './engines';

export interface RunOptions {
  name: string;
  cmd: string[];
  image?: string;
  tty?: boolean;
  labels?: Record<string, string>;
  env?: string[];
  hostConfig?: Docker.HostConfig;
  /** Wait for the container to exit and return its exit code. */
  wait?: boolean;
}

/** Starts a container with no network (test traffic never leaves the machine). */
export async function runContainer(docker: Docker, o: RunOptions): Promise<{ id: string; exitCode?: number }> {
  const c = await docker.createContainer({
    name: o.name,
    Image: o.image ?? BUSYBOX,
    Cmd: o.cmd,
    Tty: o.tty ?? false,
    Labels: o.labels,
    Env: o.env,
    HostConfig: { NetworkMode: 'none', ...o.hostConfig },
  });
  await c.start();
  if (!o.wait) return { id: c.id };
  const res = (await c.wait()) as { StatusCode: number };
  return { id: c.id, exitCode: res.StatusCode };
}

/** Removes every container whose name starts with `prefix`. */
export async function removeContainers(docker: Docker, prefix: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(
    list
      .filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix)))
      .map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)),
  );
}

/** A shell loop printing `<prefix> <i>` for i in 1..n (busybox seq is fast: 50k lines in well under 1 s). */
export function seqCommand(prefix: string, n: number, stream: 'stdout' | 'stderr' = 'stdout'): string[] {
  return ['sh', '-c', `seq 1 ${n} | sed 's/^/${prefix} /'${stream === 'stderr' ? ' >&2' : ''}`];
}

/**
 * Runs an engine call, retrying briefly: right after a dockerd restart this test process's client
 * may still hold a keep-alive connection to the old daemon (EPIPE, ECONNRESET).
 */
export async function retryEngine<T>(fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** `docker exec` to the end, as `docker exec [-it] [-u user] id cmd…` would; returns the exec id. */
export async function execIn(docker: Docker, id: string, cmd: string[], opts: { tty?: boolean; user?: string } = {}): Promise<string> {
  const e = await docker.getContainer(id).exec({ Cmd: cmd, Tty: opts.tty ?? false, AttachStdout: true, AttachStderr: true, User: opts.user });
  const s = await e.start({ hijack: true, stdin: false, Tty: opts.tty ?? false });
  s.resume();
  await new Promise((r) => s.on('end', r));
  return e.id;
}

/** Every line the engine holds for a (non-TTY) container, in its order: the ground truth of what it printed. */
export async function engineLog(docker: Docker, id: string): Promise<string[]> {
  const body = (await docker.getContainer(id).logs({ follow: false, stdout: true, stderr: true, timestamps: true })) as unknown as Buffer;
  const lines: string[] = [];
  const dec = new LogDecoder({ multiplexed: true, maxLineBytes: 1 << 20 }, (l) => lines.push(l.message));
  dec.push(body);
  dec.end();
  return lines;
}
