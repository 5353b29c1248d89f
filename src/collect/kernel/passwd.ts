import { promises as fsp } from 'node:fs';
import type { CollectorContext } from '../collector';
import { readInRoot, TAMPER_REASONS, type InRootFailure } from './in-root';
import { containerFromCgroup } from './procfs';

/** The largest /etc/passwd read (real ones are a few KiB). */
export const PASSWD_MAX_BYTES = 1 << 20;
/** Users kept per container, the file's first ones (real files hold tens; the memory is per container). */
export const PASSWD_MAX_USERS = 4096;
/** Longer names are skipped, not cut (a cut name would name someone else). */
const MAX_NAME = 64;
const MAX_HOPS = 8;

export type PasswdFailure = InRootFailure | 'timeout' | 'busy';
export type PasswdResult = { users: Map<number, string> } | { users?: undefined; reason: PasswdFailure; detail: string };

/** Lines looked at, at most: a file of a million empty lines must not cost the main thread a second. */
const MAX_LINES = 32_768;

/** `uid → name`, the first entry of a uid winning (as getpwuid does); at most `max` users. */
export function parsePasswd(text: string, max = PASSWD_MAX_USERS): Map<number, string> {
  const m = new Map<number, string>();
  let pos = 0;
  for (let n = 0; pos < text.length && n < MAX_LINES && m.size < max; n++) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    const c1 = line.indexOf(':');
    if (c1 <= 0 || c1 > MAX_NAME) continue;
    const c2 = line.indexOf(':', c1 + 1);
    if (c2 < 0) continue;
    const c3 = line.indexOf(':', c2 + 1);
    const uid = line.slice(c2 + 1, c3 < 0 ? line.length : c3);
    if (!/^\d{1,10}$/.test(uid)) continue;
    const u = Number(uid);
    if (!m.has(u)) m.set(u, line.slice(0, c1));
  }
  return m;
}

/**
 * A container's users from its /etc/passwd, read through /proc/<pid>/root with readInRoot (in the
 * container's root, plain file, capped). `container`, when given, must still be the pid's (checked
 * once the root is held: a pid reused by a host process would give the host's passwd).
 */
export async function readPasswd(pid: number, container?: string, maxBytes = PASSWD_MAX_BYTES): Promise<PasswdResult> {
  const verify = container === undefined ? undefined : async () => {
    try {
      return containerFromCgroup(await fsp.readFile(`/proc/${pid}/cgroup`, 'latin1')) === container;
    } catch {
      return false;
    }
  };
  const r = await readInRoot(`/proc/${pid}/root`, 'etc/passwd', { maxBytes, maxHops: MAX_HOPS, verify });
  return r.ok ? { users: parsePasswd(r.data.toString('utf8')) } : { reason: r.reason, detail: r.detail };
}

export interface UsersOptions {
  /** How long one lookup may take before it is given up (its file system stalls). */
  budgetMs: number;
  /** How long a failure is remembered before the next process start tries again. */
  negativeTtlMs: number;
  /** Same, when the process was gone before its root could be held (the next start may do). */
  goneTtlMs: number;
  /** Lookups given up but still holding a thread of libuv's pool: past this, no new one starts. */
  maxStuck: number;
  /** Containers remembered (destroyed ones are forgotten at once); the oldest go first. */
  maxContainers: number;
  read?: (pid: number, container: string) => Promise<PasswdResult>;
  now?: () => number;
}

export const USERS_DEFAULTS: UsersOptions = { budgetMs: 2000, negativeTtlMs: 60_000, goneTtlMs: 1000, maxStuck: 2, maxContainers: 4096 };

/** A failed lookup, handed to the collector; `first` once per container for each kind of failure. */
export interface UsersProblem {
  container: string;
  reason: PasswdFailure;
  detail: string;
  tamper: boolean;
  first: boolean;
}

interface Slot {
  users?: Map<number, string>;
  until: number;
  pending?: Promise<void>;
  seen: Set<PasswdFailure>;
}

/**
 * Container users for the kernel collector's documents, looked up once per container off the
 * event loop's blocking path: one lookup per container at a time, each within `budgetMs`; results
 * cached until the container is destroyed, failures for `negativeTtlMs` (a scratch image without
 * /etc/passwd is not read again on every exec).
 */
export class ContainerUsers {
  private readonly slots = new Map<string, Slot>();
  private stuck = 0;
  private readonly opts: UsersOptions;
  private readonly read: NonNullable<UsersOptions['read']>;
  private readonly now: () => number;

  constructor(opts: Partial<UsersOptions>, private readonly onProblem: (p: UsersProblem) => void) {
    this.opts = { ...USERS_DEFAULTS, ...opts };
    this.read = this.opts.read ?? ((pid, container) => readPasswd(pid, container));
    this.now = this.opts.now ?? Date.now;
  }

  /** Starts a lookup through the first of `pids` still alive, unless one is cached or under way. */
  want(container: string, pids: number[]): void {
    let s = this.slots.get(container);
    if (s && (s.pending || this.now() < s.until)) return;
    if (!s) {
      s = { until: 0, seen: new Set() };
      this.slots.set(container, s);
      if (this.slots.size > this.opts.maxContainers) this.evict();
    }
    const slot = s;
    slot.pending = this.lookup(container, [...new Set(pids)]).then((r) => {
      slot.pending = undefined;
      if (r.users) {
        slot.users = r.users;
        slot.until = Infinity;
        return;
      }
      slot.until = this.now() + (r.reason === 'gone' ? this.opts.goneTtlMs : this.opts.negativeTtlMs);
      const first = !slot.seen.has(r.reason);
      slot.seen.add(r.reason);
      try {
        this.onProblem({ container, reason: r.reason, detail: r.detail, tamper: TAMPER_REASONS.has(r.reason as InRootFailure), first });
      } catch {
        // A report that fails must not leave a rejected lookup nobody awaits (that ends the process).
      }
    });
  }

  /** Settles when the container's lookup, if one is under way, is done or given up. */
  ready(container: string): Promise<void> {
    return this.slots.get(container)?.pending ?? Promise.resolve();
  }

  get(container: string): Map<number, string> | undefined {
    return this.slots.get(container)?.users;
  }

  forget(container: string): void {
    this.slots.delete(container);
  }

  /** Lookups given up whose file system calls have not returned yet. */
  get stalled(): number {
    return this.stuck;
  }

  private async lookup(container: string, pids: number[]): Promise<PasswdResult> {
    let r: PasswdResult = { reason: 'gone', detail: 'no process to read through' };
    for (const pid of pids) {
      r = await this.bounded(pid, container);
      if (r.users || r.reason !== 'gone') return r;
    }
    return r;
  }

  private async bounded(pid: number, container: string): Promise<PasswdResult> {
    if (this.stuck >= this.opts.maxStuck) return { reason: 'busy', detail: `${this.stuck} earlier lookups still stalled` };
    const work = this.read(pid, container).catch((err: Error): PasswdResult => ({ reason: 'error', detail: err.message }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.opts.budgetMs);
      timer.unref();
    });
    const r = await Promise.race([work, late]);
    clearTimeout(timer);
    if (r) return r;
    // Given up; its calls still hold pool threads until the file system answers.
    this.stuck++;
    void work.finally(() => this.stuck--);
    return { reason: 'timeout', detail: `/etc/passwd: no answer within ${this.opts.budgetMs} ms` };
  }

  private evict(): void {
    for (const [k, s] of this.slots) {
      if (!s.pending) {
        this.slots.delete(k);
        return;
      }
    }
  }
}

/**
 * A container's /etc/passwd that could not be read, told by the kernel collector. A planted one
 * (FIFO, device, oversized, a symlink climbing out of the root) is tampering: reported once per
 * container, and counted (`kernel.passwd.refused`); a stalled file system once (`kernel.passwd.timeout`).
 */
export function reportUsersProblem(ctx: Pick<CollectorContext, 'telemetry' | 'tamper'>, p: UsersProblem): void {
  const id = p.container.slice(0, 12);
  const fields = { container: { id: p.container } };
  if (p.tamper) {
    if (!p.first) return;
    ctx.telemetry.event('kernel.passwd.refused', 'warn', `kernel process events: container ${id}: ${p.detail}; not read, its users stay unnamed`, fields);
    ctx.tamper?.({ container: p.container, kind: 'special-file', detail: p.detail });
  } else if (p.reason === 'timeout' || p.reason === 'busy') {
    if (p.first) ctx.telemetry.event('kernel.passwd.timeout', 'warn', `kernel process events: container ${id}: ${p.detail}; its users stay unnamed for now`, fields);
  } else {
    ctx.telemetry.event('kernel.passwd.failed', 'debug', `kernel process events: container ${id}: no users (${p.reason}: ${p.detail})`, fields);
  }
}
