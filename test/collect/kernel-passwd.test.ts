import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import winston from 'winston';
import type { TamperReport } from '../../src/collect/collector';
import { ContainerUsers, parsePasswd, PASSWD_MAX_BYTES, readPasswd, reportUsersProblem, type PasswdResult, type UsersProblem } from '../../src/collect/kernel/passwd';
import { Telemetry } from '../../src/telemetry/telemetry';

const ID = 'c'.repeat(64);
const root = process.getuid?.() === 0;
const python = spawnSync('python3', ['-c', 'pass']).status === 0;

/** The review's h1 set-up: a "container" is a process chrooted into R, as a container's init is. */
function chrooted(dir: string): ChildProcess {
  return spawn('python3', ['-c', `import os,time; os.chroot(${JSON.stringify(dir)}); time.sleep(600)`], { stdio: 'ignore' });
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    assert.ok(Date.now() < end, `${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function mkfifo(path: string): void {
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
}

/** Turns of the event loop (setImmediate) while `p` runs: 0 if it ran synchronously. */
async function turnsDuring<T>(p: () => Promise<T>): Promise<{ value: T; turns: number; ms: number }> {
  let turns = 0;
  let on = true;
  const spin = () => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  const t0 = Date.now();
  const started = p();
  setImmediate(spin);
  const value = await started;
  on = false;
  return { value, turns, ms: Date.now() - t0 };
}

function users(r: PasswdResult): Array<[number, string]> | string {
  return r.users ? [...r.users] : `${r.reason}: ${r.detail}`;
}

// Never skipped: without root and python3 the run fails loudly (a skipped integration test is a failure).
if (!root || !python) throw new Error('kernel-passwd tests need root and python3 (a chrooted child stands for a container)');

describe('a container\'s /etc/passwd, read inside its root, bounded, off the blocking path (H1)', () => {
  let dir: string;
  let child: ChildProcess;
  let pid: number;
  const passwd = () => join(dir, 'etc/passwd');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-passwd-'));
    child = chrooted(dir);
    pid = child.pid!;
    await until('the child chrooted', () => {
      try {
        return readlinkSync(`/proc/${pid}/root`) === dir;
      } catch {
        return false;
      }
    });
  });

  after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.host`, { force: true });
  });

  beforeEach(() => {
    for (const p of ['etc', 'dev', 'usr', 'tmp']) rmSync(join(dir, p), { recursive: true, force: true });
    mkdirSync(join(dir, 'etc'));
  });

  it('a normal file: uid → name, the first entry of a uid wins', async () => {
    writeFileSync(passwd(), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\nalias:x:0:0::/:/bin/sh\nbad line\n:x:5:5::/:\n');
    const r = await readPasswd(pid);
    assert.deepEqual(users(r), [[0, 'root'], [65534, 'nobody']]);
  });

  it('a FIFO: answers at once, no users, and the event loop turns meanwhile (before: open() blocked dockward for good)', async () => {
    mkfifo(passwd());
    const { value, turns, ms } = await turnsDuring(() => readPasswd(pid));
    assert.equal(users(value), 'special: /etc/passwd is a FIFO');
    assert.ok(ms < 1000, `${ms} ms`);
    assert.ok(turns > 0, 'the read went through libuv\'s pool, not the main thread');
  });

  it('a symlink to /dev/zero: resolved in the root, a device is never opened, nothing read (before: memory grew without bound)', async () => {
    symlinkSync('/dev/zero', passwd());
    assert.equal(users(await readPasswd(pid)), 'absent: /etc/passwd: ENOENT', 'no /dev/zero in this root: the host\'s is not used');
    mkdirSync(join(dir, 'dev'));
    assert.equal(spawnSync('mknod', [join(dir, 'dev/zero'), 'c', '1', '5']).status, 0, 'mknod');
    const { value, ms } = await turnsDuring(() => readPasswd(pid));
    assert.equal(users(value), 'special: /etc/passwd is a character device');
    assert.ok(ms < 1000, `${ms} ms`);
  });

  it('too big: refused by its size (sparse 8 GiB) without reading; at the cap still read', async () => {
    writeFileSync(passwd(), '');
    truncateSync(passwd(), 8 * 2 ** 30);
    const { value, ms } = await turnsDuring(() => readPasswd(pid));
    assert.equal(users(value), `too-big: /etc/passwd is ${8 * 2 ** 30} bytes (at most ${PASSWD_MAX_BYTES} read)`);
    assert.ok(ms < 1000, `${ms} ms`);
    const line = 'u:x:1:1::/:/bin/sh\n';
    writeFileSync(passwd(), line + '#'.repeat(PASSWD_MAX_BYTES - line.length));
    assert.deepEqual(users(await readPasswd(pid)), [[1, 'u']]);
  });

  it('an absolute symlink to a host file: resolved in the container\'s root, never the host\'s content (before: the host file was read)', async () => {
    const host = `${dir}.host`;
    writeFileSync(host, 'hostonly:x:4242:4242::/:/bin/false\n');
    symlinkSync(host, passwd());
    assert.equal(users(await readPasswd(pid)), 'absent: /etc/passwd: ENOENT');
    // The same absolute path inside the root is what the container sees: that one is read.
    mkdirSync(join(dir, host, '..'), { recursive: true });
    writeFileSync(join(dir, host), 'inside:x:7:7::/:/bin/sh\n');
    assert.deepEqual(users(await readPasswd(pid)), [[7, 'inside']]);
  });

  it('relative symlinks inside the root are followed, a symlinked directory too', async () => {
    mkdirSync(join(dir, 'usr/lib'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/passwd'), 'app:x:1000:1000::/:/bin/sh\n');
    symlinkSync('../usr/lib/passwd', passwd());
    assert.deepEqual(users(await readPasswd(pid)), [[1000, 'app']]);
    rmSync(join(dir, 'etc'), { recursive: true });
    mkdirSync(join(dir, 'usr/etc'));
    writeFileSync(join(dir, 'usr/etc/passwd'), 'viadir:x:3:3::/:/bin/sh\n');
    symlinkSync('/usr/etc', join(dir, 'etc')); // absolute: from the container's root
    assert.deepEqual(users(await readPasswd(pid)), [[3, 'viadir']]);
  });

  it('a symlink climbing above the root, or a loop: refused', async () => {
    symlinkSync('../../../../../etc/passwd', passwd());
    assert.equal(users(await readPasswd(pid)), 'escape: /etc/passwd: a symlink climbs above the container\'s root');
    rmSync(passwd());
    symlinkSync('passwd2', passwd());
    symlinkSync('passwd', join(dir, 'etc/passwd2'));
    assert.equal(users(await readPasswd(pid)), 'loop: /etc/passwd: more than 8 symlinks');
  });

  it('through a pid that is no longer the container\'s: nothing read', async () => {
    writeFileSync(passwd(), 'root:x:0:0::/:/bin/sh\n');
    assert.equal(users(await readPasswd(pid, ID)), `gone: /proc/${pid}/root: the pid names another process now`, 'the chrooted child is in no container\'s cgroup');
    assert.match(String(users(await readPasswd(2 ** 22 + 12345))), /^gone: .*ENOENT/, 'no such pid');
  });

  it('per container: cached, failures too (TTL), a planted file reported once as tamper and counted', async () => {
    mkfifo(passwd());
    let now = 0;
    let reads = 0;
    const tampers: TamperReport[] = [];
    const telemetry = new Telemetry(winston.createLogger({ silent: true }));
    const ctx = { telemetry, tamper: (r: TamperReport) => tampers.push(r) };
    const u = new ContainerUsers({ now: () => now, read: (p) => (reads++, readPasswd(p)) }, (p) => reportUsersProblem(ctx, p));
    u.want(ID, [pid]);
    await u.ready(ID);
    u.want(ID, [pid]); // a second exec at once: the failure is remembered
    await u.ready(ID);
    assert.equal(reads, 1);
    assert.equal(u.get(ID), undefined);
    now += 60_001; // the negative cache expired: read again, not reported again
    u.want(ID, [pid]);
    await u.ready(ID);
    assert.equal(reads, 2);
    assert.deepEqual(tampers, [{ container: ID, kind: 'special-file', detail: '/etc/passwd is a FIFO' }]);
    const snap = await telemetry.snapshot();
    assert.equal(snap['dockward_events_total{event=kernel.passwd.refused}'], 1);
    // Fixed: the next try after the TTL reads it, and keeps it.
    rmSync(passwd());
    writeFileSync(passwd(), 'root:x:0:0::/:/bin/sh\n');
    now += 60_001;
    u.want(ID, [pid]);
    await u.ready(ID);
    assert.equal(u.get(ID)?.get(0), 'root');
    now += 10 ** 9;
    u.want(ID, [pid]);
    assert.equal(reads, 3, 'a success is kept until the container is destroyed');
    u.forget(ID);
    assert.equal(u.get(ID), undefined);
  });

  it('the first pid gone, the next one (the session leader) read; a scratch image without passwd is not read again on every exec', async () => {
    const problems: UsersProblem[] = [];
    let reads = 0;
    const u = new ContainerUsers({ read: (p) => (reads++, readPasswd(p)) }, (p) => problems.push(p));
    writeFileSync(passwd(), 'root:x:0:0::/:/bin/sh\n');
    u.want(ID, [2 ** 22 + 12345, pid]);
    await u.ready(ID);
    assert.equal(u.get(ID)?.get(0), 'root');
    rmSync(passwd());
    const other = 'd'.repeat(64);
    for (let i = 0; i < 50; i++) {
      u.want(other, [pid]);
      await u.ready(other);
    }
    assert.equal(reads, 3);
    assert.deepEqual(problems.map((p) => `${p.reason} ${p.tamper} ${p.first}`), ['absent false true']);
  });
});

describe('container users: a lookup that stalls is given up, the event loop goes on (H1, no root needed)', () => {
  it('within the time budget; past maxStuck stalled lookups no new one starts', async () => {
    const problems: UsersProblem[] = [];
    let release!: () => void;
    const stall = new Promise<PasswdResult>((resolve) => (release = () => resolve({ reason: 'absent', detail: 'late' })));
    const u = new ContainerUsers({ budgetMs: 100, maxStuck: 1, read: () => stall }, (p) => problems.push(p));
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    const t0 = Date.now();
    u.want(ID, [1]);
    await u.ready(ID);
    clearInterval(iv);
    const ms = Date.now() - t0;
    assert.ok(ms >= 90 && ms < 1000, `${ms} ms`);
    assert.ok(ticks >= 3, `${ticks} ticks of a 10 ms timer meanwhile`);
    assert.equal(u.stalled, 1);
    const other = 'e'.repeat(64);
    u.want(other, [1]);
    await u.ready(other);
    assert.deepEqual(problems.map((p) => p.reason), ['timeout', 'busy']);
    release();
    await until('the stalled lookup returned', () => u.stalled === 0);
  });

  it('parses at most the first users; odd lines are skipped', () => {
    const text = Array.from({ length: 100 }, (_, i) => `u${i}:x:${i}:${i}::/:/bin/sh`).join('\n');
    assert.equal(parsePasswd(text, 10).size, 10);
    // A million empty lines: split('\n') and a split per line took 710 ms of main thread; lines are capped now.
    const t0 = Date.now();
    assert.equal(parsePasswd('\n'.repeat(PASSWD_MAX_BYTES)).size, 0);
    assert.ok(Date.now() - t0 < 300, `${Date.now() - t0} ms`);
    assert.deepEqual([...parsePasswd(`a:x:1\nb:x:-2:0\nc:x:99999999999:0\n:x:3:3\n${'n'.repeat(65)}:x:5:5\nd:x:4`)], [[1, 'a'], [4, 'd']]);
  });
});
