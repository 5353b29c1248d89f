import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, engines } from './engines';

export interface DockwardOptions {
  namespace: string;
  /** Keep the same state dir across restarts to test resume. */
  stateDir?: string;
  /** Extra `-E key=value` overrides. */
  sets?: string[];
  command?: string[];
  env?: NodeJS.ProcessEnv;
}

/** The real CLI in a child process, so it can be killed with SIGKILL like in production. */
export class DockwardProcess {
  readonly stateDir: string;
  private output = '';
  private readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(opts: DockwardOptions) {
    this.stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'dockward-test-'));
    const e = engines();
    const args = [
      // DWTEST_NODE_ARGS: node flags for dockward only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses them).
      ...(process.env.DWTEST_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(ROOT, 'dist/src/cli/main.js'),
      ...(opts.command ?? ['run']),
      '-E', `elasticsearch.hosts=[${e.esUrl}]`,
      '-E', `namespace=${opts.namespace}`,
      '-E', `state_dir=${this.stateDir}`,
      '-E', 'output.flush_interval=200ms',
      '-E', `collectors.logs.include_names=[${opts.namespace}-*]`,
      '-E', 'http.port=0',
      ...(opts.sets ?? []).flatMap((s) => ['-E', s]),
    ];
    this.child = spawn(process.execPath, args, {
      env: { ...process.env, DOCKER_HOST: e.dockerHost, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves when the process printed a line matching `re`; rejects on exit or timeout. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (this.child.exitCode !== null) throw new Error(`dockward exited (${this.child.exitCode}) before ${re}:\n${this.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The metrics endpoint's values (name{labels} → value), from the port it logged. */
  async metrics(): Promise<Record<string, number>> {
    const m = /metrics and health on (http:\/\/[\d.]+:\d+)/.exec(this.output);
    if (!m) throw new Error(`no metrics address in the log:\n${this.output.slice(-2000)}`);
    const text = await (await fetch(`${m[1]}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      out[line.slice(0, sp).replace(/"/g, '')] = Number(line.slice(sp + 1));
    }
    return out;
  }

  async health(): Promise<{ status: number; body: Record<string, unknown> }> {
    const m = /metrics and health on (http:\/\/[\d.]+:\d+)/.exec(this.output);
    if (!m) throw new Error('no health address in the log');
    // Bounded: a frozen dockward must fail the caller, not hang it.
    const res = await fetch(`${m[1]}/health`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** For waitForCount: throws with the log when the process exited on its own. */
  readonly alive = (): void => {
    if (this.child.exitCode !== null && !this.killed) throw new Error(`dockward exited (${this.child.exitCode}):\n${this.output.slice(-3000)}`);
  };
  private killed = false;

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.killed = true;
    // With DWTEST_NODE_ARGS (a profile), a clean stop: node writes profiles only when it exits itself.
    if (process.env.DWTEST_NODE_ARGS && signal === 'SIGKILL') signal = 'SIGTERM';
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  static run(opts: DockwardOptions): DockwardProcess {
    return new DockwardProcess(opts);
  }
}
