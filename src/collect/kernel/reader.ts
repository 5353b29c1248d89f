import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FoldedWindow } from './flood';
import type { ProcessFact } from './process-table';
import type { Notice, SourceOptions, SourceStats } from './source';

export type ReaderMessage =
  | { kind: 'ready'; added: number; receiveBuffer: number; since: number }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'facts'; facts: ProcessFact[] }
  | { kind: 'folded'; windows: FoldedWindow[] }
  | { kind: 'notice'; notice: Notice }
  | { kind: 'stats'; stats: SourceStats };

export type ReaderOptions = SourceOptions & { nice: number };

/** Restarts after a crash wait this long, doubled for each crash within CRASH_WINDOW_MS, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const CRASH_WINDOW_MS = 60_000;
/** The end of the reader's stderr kept for the crash report (an abort prints its reason there). */
const STDERR_TAIL = 2048;
const STOP_MS = 2000;

/**
 * The kernel source (worker.ts) in a process of its own, restarted when it dies. The netlink
 * addon aborts its whole process when a socket reports an error while it is not reading (an
 * ENOBUFS overrun seen by epoll under an exec storm: `terminate called after throwing an instance
 * of 'Napi::Error'`, node_modules/netlink/src/binding.cc PollHandler passes a NULL syscall name to
 * a string constructor). A container can cause that storm, so the abort must not take dockward
 * down with it: here it costs the events of the restart's gap (top polling covers them, coverage.ts)
 * and is reported. Messages are copied with the structured clone algorithm, as a thread's were.
 */
export class KernelReader {
  private child: ChildProcess | undefined;
  private stopping = false;
  private crashes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private everReady = false;

  constructor(
    private readonly opts: ReaderOptions,
    private readonly onMessage: (m: ReaderMessage) => void,
    /** The reader died after it had run; `restartInMs`: when the next one starts. */
    private readonly onCrash: (why: string, restartInMs: number) => void,
  ) {}

  /** Resolves when the first reader subscribed (undefined) or could not (the reason). */
  start(): Promise<string | undefined> {
    return new Promise((resolve) => this.spawn(resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    // The reader removes its audit rules and sends its last stats before it exits.
    if (c.connected) c.send({ kind: 'stop' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_MS))]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited;
    }
  }

  private spawn(first?: (why: string | undefined) => void): void {
    let stderr = '';
    let ready = false;
    const child = fork(join(__dirname, 'worker.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // dockward's node flags (a heap limit, --cpu-prof) apply to its reader as well.
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_TAIL);
    });
    child.on('message', (m: ReaderMessage) => {
      if (m.kind === 'ready') {
        ready = true;
        this.everReady = true;
        first?.(undefined);
        first = undefined;
      } else if (m.kind === 'unavailable') {
        first?.(m.reason);
        first = undefined;
      }
      this.onMessage(m);
    });
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const why = `the kernel reader process exited (${signal ? `signal ${signal}` : `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      if (first) {
        first(why);
        first = undefined;
        return;
      }
      if (this.stopping || !(ready || this.everReady)) return;
      const now = Date.now();
      this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
      const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.crashes.length - 1));
      this.onCrash(why, wait);
      this.restartTimer = setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, wait);
    });
    child.send({ kind: 'start', opts: this.opts });
  }
}
