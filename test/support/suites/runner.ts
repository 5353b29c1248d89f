import type { Client } from '@elastic/elasticsearch';
import type Docker from 'dockerode';
import { adminClient, engines, newNamespace } from '../engines';
import { execIn, removeContainers } from '../containers';
import { DockwardProcess } from '../dockward';
import { alertsOn, isHarness, logLines, MARK_DONE, MARK_END, markedContainers, streams, type AlertDoc } from './evidence';
import { BASE, benignImage, buildBenignImage, openRootDirectory, removeSuiteImages } from './images';
import type { AttackScenario, BenignScenario } from './scenarios';

export interface SuiteOptions {
  /** Containers at once (the machine's cores are shared: the default keeps to 8). */
  batch?: number;
  /** How long each benign container is watched, from its start. */
  benignMinutes?: number;
  /** Longest wait for one batch's watermarks (drift scans run once a minute). */
  batchTimeoutMs?: number;
  /** Extra `-E` settings for dockward (none: its default configuration). */
  sets?: string[];
  log?: (line: string) => void;
}

export interface Outcome {
  id: string;
  containerId: string;
  /** The watermark arrived: everything the scenario did went through dockward. */
  complete: boolean;
  startedAt: number;
  alerts: AlertDoc[];
  signals: AlertDoc[];
  /** Alerts resting on the runner's own marker steps, left out of `alerts`. */
  harnessAlerts: number;
}

// Limits on anything that could grow: a scenario is hostile by design.
const LIMITS: Docker.HostConfig = { NetworkMode: 'none', Memory: 256 * 1024 * 1024, NanoCpus: 500_000_000, PidsLimit: 256 };

/** Runs the attack and benign suites against one dockward with its default configuration. */
export class SuiteRunner {
  readonly ns = newNamespace('suite');
  readonly es: Client = adminClient();
  private readonly docker: Docker = engines().docker;
  private dockward?: DockwardProcess;
  private readonly batch: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SuiteOptions = {}) {
    this.batch = Math.max(1, opts.batch ?? 8);
    this.log = opts.log ?? (() => undefined);
  }

  /** Builds the benign images first (their build containers are not part of the run), then starts dockward. */
  async start(benign: BenignScenario[]): Promise<void> {
    // Four builds at once: each copies its base image (vfs), which waits on the disk more than the CPU.
    for (let i = 0; i < benign.length; i += 4) await Promise.all(benign.slice(i, i + 4).map((s) => buildBenignImage(this.docker, this.ns, s)));
    this.dockward = DockwardProcess.run({ namespace: this.ns, sets: this.opts.sets });
    await this.dockward.waitFor(/dockward running/, 120_000);
  }

  get process(): DockwardProcess {
    if (!this.dockward) throw new Error('SuiteRunner.start() first');
    return this.dockward;
  }

  /**
   * A pool of `batch` containers: each scenario's container is removed as soon as its watermark
   * arrives (or its time is up) and the next one starts, so one slow drift scan holds one slot,
   * not a whole batch.
   */
  async runAttacks(scenarios: AttackScenario[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const marks = new MarkWatch(this.es, this.ns, MARK_DONE, () => this.process.alive());
    let next = 0;
    const worker = async () => {
      while (next < scenarios.length) {
        const s = scenarios[next++];
        const started = await this.startAttack(s);
        const complete = await marks.wait(started.containerId, this.opts.batchTimeoutMs ?? 150_000);
        this.process.alive();
        out.push({ ...started, complete, alerts: [], signals: [], harnessAlerts: 0 });
        const n = out.length;
        if (n % 10 === 0 || n === scenarios.length) this.log(`attacks ${n}/${scenarios.length}: ${out.filter((o) => o.complete).length} complete`);
        await this.docker.getContainer(started.containerId).remove({ force: true }).catch(() => undefined);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.batch, scenarios.length) }, worker));
    } finally {
      marks.stop();
    }
    return out;
  }

  async runBenign(scenarios: BenignScenario[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const windowMs = (this.opts.benignMinutes ?? 10) * 60_000;
    for (let i = 0; i < scenarios.length; i += this.batch) {
      const part = scenarios.slice(i, i + this.batch);
      const started = await Promise.all(part.map((s) => this.startBenign(s)));
      await Promise.all(started.map((s, k) => this.routine(part[k], s.containerId)));
      // The observation window is the measurement itself: alerts in a container's first N minutes.
      const windowEnd = Math.max(...started.map((s) => s.startedAt)) + windowMs;
      while (Date.now() < windowEnd) {
        this.process.alive();
        await new Promise((r) => setTimeout(r, Math.min(5000, windowEnd - Date.now())));
      }
      await Promise.all(started.map((s) => execIn(this.docker, s.containerId, ['touch', MARK_END]).catch(() => undefined)));
      const done = await this.waitForMarks(started.map((s) => s.containerId), MARK_END);
      for (const s of started) out.push({ ...s, complete: done.has(s.containerId), alerts: [], signals: [], harnessAlerts: 0 });
      await removeContainers(this.docker, `${this.ns}-b-`);
      this.log(`benign ${Math.min(i + this.batch, scenarios.length)}/${scenarios.length}: ${done.size}/${part.length} complete`);
    }
    return out;
  }

  /**
   * Reads every outcome's alerts and signals once all phases ran, so that an alert which came
   * late (a summary, a risk score) still counts; benign ones only within their window.
   */
  async collect(outcomes: Outcome[], windowMinutes?: number): Promise<void> {
    const ids = outcomes.map((o) => o.containerId);
    const { alerts, signals } = streams(this.ns);
    const a = await alertsOn(this.es, alerts, ids);
    const s = await alertsOn(this.es, signals, ids);
    for (const o of outcomes) {
      const inWindow = (d: AlertDoc) => windowMinutes === undefined || Date.parse(d['@timestamp']) <= o.startedAt + windowMinutes * 60_000;
      const mine = (a.get(o.containerId) ?? []).filter(inWindow);
      o.alerts = mine.filter((d) => !isHarness(d));
      o.harnessAlerts = mine.length - o.alerts.length;
      o.signals = (s.get(o.containerId) ?? []).filter(inWindow).filter((d) => !isHarness(d));
    }
  }

  async close(): Promise<void> {
    await this.dockward?.kill();
    await removeContainers(this.docker, this.ns);
    await removeSuiteImages(this.docker, this.ns);
    await this.es.close();
  }

  private async startAttack(s: AttackScenario): Promise<Omit<Outcome, 'complete' | 'alerts' | 'signals' | 'harnessAlerts'>> {
    // `run`: the scenario is the container's command, as `docker run image sh -c '…'`; the marker
    // follows in the same shell, the script in a subshell so that its `exit` cannot skip it.
    const wrapped = `(\n${s.script}\n) </dev/null\ntouch ${MARK_DONE}\nexec sleep 3600`;
    const cmd = s.via === 'run' ? ['sh', '-c', wrapped] : ['sleep', '3600'];
    const c = await this.docker.createContainer({ name: `${this.ns}-a-${s.id}`, Image: BASE[s.image], Cmd: cmd, Labels: { 'dockward.suite': 'attack' }, HostConfig: LIMITS });
    await openRootDirectory(this.docker, c.id);
    await c.start();
    const startedAt = Date.now();
    if (s.via === 'exec') {
      await withTimeout(execIn(this.docker, c.id, ['sh', '-c', s.script]), 60_000).catch((err: Error) => this.log(`${s.id}: exec: ${err.message}`));
      await execIn(this.docker, c.id, ['touch', MARK_DONE]).catch(() => undefined);
    }
    return { id: s.id, containerId: c.id, startedAt };
  }

  private async startBenign(s: BenignScenario): Promise<Omit<Outcome, 'complete' | 'alerts' | 'signals' | 'harnessAlerts'>> {
    const c = await this.createBenign(s).catch(async (err: { statusCode?: number }) => {
      // Another run's image clean-up on the shared engine may have removed an unused image (seen
      // here): built again now; its build containers are not ours, so nothing of them is counted.
      if (err.statusCode !== 404) throw err;
      this.log(`${s.id}: image gone, building it again`);
      await buildBenignImage(this.docker, this.ns, s);
      return this.createBenign(s);
    });
    await openRootDirectory(this.docker, c.id);
    await c.start();
    return { id: s.id, containerId: c.id, startedAt: Date.now() };
  }

  private createBenign(s: BenignScenario): Promise<Docker.Container> {
    return this.docker.createContainer({
      name: `${this.ns}-b-${s.id}`,
      Image: benignImage(this.ns, s),
      Cmd: s.cmd,
      Env: s.env,
      Labels: { 'dockward.suite': 'benign' },
      Healthcheck: s.healthcheck ? { Test: ['CMD-SHELL', s.healthcheck], Interval: 10e9, Timeout: 5e9, Retries: 3 } : undefined,
      HostConfig: LIMITS,
    });
  }

  /** Waits for the ready line, as a readiness probe would, then runs the scenario's exec steps. */
  private async routine(s: BenignScenario, id: string): Promise<void> {
    const ready = new RegExp(s.ready);
    const deadline = Date.now() + 60_000;
    while (!(await logLines(this.es, this.ns, id)).some((l) => ready.test(l))) {
      this.process.alive();
      if (Date.now() > deadline) return this.log(`${s.id}: no ready line /${s.ready}/ within 60 s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    for (const e of s.execs) await withTimeout(execIn(this.docker, id, e.cmd, { user: e.user }), 60_000).catch((err: Error) => this.log(`${s.id}: exec: ${err.message}`));
  }

  private async waitForMarks(ids: string[], marker: string): Promise<Set<string>> {
    const marks = new MarkWatch(this.es, this.ns, marker, () => this.process.alive());
    try {
      const done = await Promise.all(ids.map((id) => marks.wait(id, this.opts.batchTimeoutMs ?? 150_000)));
      this.process.alive();
      return new Set(ids.filter((_, k) => done[k]));
    } finally {
      marks.stop();
    }
  }
}

/** One poll a second for the watermarks of every container waited on, however many wait. */
class MarkWatch {
  private readonly waiting = new Map<string, { deadline: number; resolve: (seen: boolean) => void }>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly es: Client, private readonly ns: string, private readonly marker: string, private readonly alive: () => void) {}

  wait(id: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.set(id, { deadline: Date.now() + timeoutMs, resolve });
      this.timer ??= setTimeout(() => void this.poll(), 1000);
    });
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const w of this.waiting.values()) w.resolve(false);
    this.waiting.clear();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    try {
      this.alive();
    } catch {
      // Dockward is gone: every waiter learns it from its own alive() check right after.
      return this.stop();
    }
    const seen = await markedContainers(this.es, this.ns, [...this.waiting.keys()], this.marker).catch(() => new Set<string>());
    const now = Date.now();
    for (const [id, w] of this.waiting) {
      if (!seen.has(id) && now < w.deadline) continue;
      w.resolve(seen.has(id));
      this.waiting.delete(id);
    }
    if (this.waiting.size) this.timer = setTimeout(() => void this.poll(), 1000);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`no end within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}
