import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ROOT } from '../support/engines';

/**
 * Helpers of the image tests: dockward's own image, built by scripts/image.sh from the locally
 * imported base (cached by a hash of its inputs, so this is quick when nothing changed).
 */
export function buildImage(): string {
  // The tag of the image it built or kept (sources edited meanwhile do not change which).
  const out = execFileSync(join(ROOT, 'scripts/image.sh'), ['build'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60_000 });
  const tag = /^DWTEST_IMAGE=(.+)$/m.exec(out)?.[1];
  if (!tag) throw new Error(`scripts/image.sh build printed no image: ${out}`);
  return tag;
}

/** A free TCP port on loopback (containers here share the host network). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The TLS cluster's CA in a directory a non-root container user can read: <dir>/ca/ca.crt. */
export function readableCa(caFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockward-certs-'));
  execFileSync('mkdir', ['-p', join(dir, 'ca')]);
  copyFileSync(caFile, join(dir, 'ca', 'ca.crt'));
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'ca'), 0o755);
  chmodSync(join(dir, 'ca', 'ca.crt'), 0o644);
  return dir;
}

export function socketPath(dockerHost: string): string {
  return dockerHost.replace(/^unix:\/\//, '');
}

export function socketGid(dockerHost: string): number {
  return statSync(socketPath(dockerHost)).gid;
}

export async function containerLogs(docker: Docker, id: string): Promise<string> {
  const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Multiplexed frames: 8-byte headers, then the payload.
  let out = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const n = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + n).toString('utf8');
    i += 8 + n;
  }
  return out;
}

export interface HealthState {
  status: string;
  log: string;
}

/** Polls `docker inspect` until the health status is `want` (or the time is up); returns the last. */
export async function waitForHealth(docker: Docker, id: string, want: string, timeoutMs: number): Promise<HealthState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await docker.getContainer(id).inspect();
    const h = (info.State as unknown as { Health?: { Status: string; Log?: Array<{ Output: string; ExitCode: number }> } }).Health;
    const state = { status: h?.Status ?? 'none', log: (h?.Log ?? []).map((l) => `${l.ExitCode}: ${l.Output.trim()}`).join('\n') };
    if (state.status === want || !info.State.Running || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
