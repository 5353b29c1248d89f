import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { glob } from '../config/glob';
import { byteSize } from '../config/units';
import { openLogStream } from '../docker/engine';
import { LogDecoder, sinceArg, type LogLine } from '../docker/log-decoder';
import type { EngineEvent } from '../docker/event-stream';
import { baseFields, containerFields, detectLevel, labelTamper } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { AckTracker } from '../ship/ack-tracker';
import { LogPosition } from './log-position';
import { createdClock, logDocument } from './log-document';
import { deterministicId, streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';

export const logsConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Where to start in a container never seen before: its whole log, or only new lines. */
    start_at: z.enum(['beginning', 'end']).default('beginning'),
    /** Longer lines are cut here and tagged `log.flags: truncated`. */
    max_line_bytes: byteSize.prefault('1mib'),
    /** Container names (globs with *) to follow; empty: all. */
    include_names: z.array(z.string()).default([]),
    /** Container names (globs with *) to skip; a container labelled dockward.logs=false is skipped too. */
    exclude_names: z.array(z.string()).default([]),
  })
  .strict()
  .prefault({});
export type LogsConfig = z.output<typeof logsConfig>;

/** How a container's reading ended: 'unknown' when the engine could not say, 'stopped' when dockward stops. */
type FollowEnd = 'drained' | 'ignored' | 'unknown' | 'stopped';

/** A log cursor: the engine timestamp of the newest line stored with everything before it. */
interface LogCursor {
  sec: number;
  nanos: number;
}

const DATASET = 'dockward.container';
const READABLE_DRIVERS = new Set(['json-file', 'local', 'journald', 'etwlogs']);

/**
 * Follows the stdout/stderr of every container: those running at start, those that start later
 * (engine `start` events), and stopped ones that still have unread lines after a restart of
 * dockward. One document per line, `_id` from (container, stream, timestamp, ordinal among equal
 * timestamps), cursor saved only once Elasticsearch has acknowledged every line before it. The
 * engine's `since` is inclusive, so a resume re-reads the cursor's own timestamp: those lines get
 * the same ids and come back as 409 duplicates, never as twins.
 */
export class LogsCollector implements Collector {
  readonly name = 'logs';
  private readonly followers = new Map<string, Promise<void>>();
  /** Stopped containers read to their end by this process: a rescan need not read them again. */
  private readonly drained = new Set<string>();
  /** Containers excluded by name or label, or with an unreadable log driver. */
  private readonly ignored = new Set<string>();
  /** Containers started again while their last read was still running. */
  private readonly again = new Set<string>();
  private readonly streams = new Set<IncomingMessage>();
  private readonly base: Record<string, unknown>;
  private readonly index: string;
  private readonly include: Array<(name: string) => boolean>;
  private readonly exclude: Array<(name: string) => boolean>;
  private running = false;
  /** Aborted at stop: log requests the engine has not answered yet end with it. */
  private stopping = new AbortController();
  private readonly onEvent = (ev: EngineEvent) => {
    if (ev.Type === 'container' && ev.Action === 'start') this.follow(ev.Actor.ID);
    if (ev.Type === 'container' && ev.Action === 'destroy') {
      this.ctx.cursors.delete(`logs/${ev.Actor.ID}`);
      this.drained.delete(ev.Actor.ID);
      this.ignored.delete(ev.Actor.ID);
    }
  };
  private readonly onConnected = () => void this.scan();

  constructor(private readonly ctx: CollectorContext, private readonly cfg: LogsConfig) {
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.index = streamName('logs', DATASET, ctx.namespace);
    this.include = cfg.include_names.map(glob);
    this.exclude = cfg.exclude_names.map(glob);
  }

  async start(): Promise<void> {
    this.running = true;
    this.stopping = new AbortController();
    this.ctx.events.on('event', this.onEvent);
    // Every (re)connection of the event stream may follow a gap: look at all containers again.
    this.ctx.events.on('connected', this.onConnected);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.ctx.events.off('event', this.onEvent);
    this.ctx.events.off('connected', this.onConnected);
    this.stopping.abort();
    for (const s of this.streams) s.destroy();
    await Promise.allSettled([...this.followers.values()]);
  }

  /**
   * Follows running containers, and reads stopped ones to their end: all of them on a first run
   * (start_at: beginning, as Filebeat reads every container's file), else those with a cursor.
   */
  private async scan(): Promise<void> {
    let list;
    try {
      list = await this.ctx.docker.listContainers({ all: true });
    } catch (err) {
      this.ctx.telemetry.event('logs.scan.failed', 'warn', `cannot list containers: ${(err as Error).message}`);
      return;
    }
    const known = new Set(list.map((c) => c.Id));
    for (const key of this.ctx.cursors.keys('logs/')) {
      if (!known.has(key.slice(5))) this.ctx.cursors.delete(key);
    }
    for (const c of list) {
      if (c.State === 'running') this.follow(c.Id);
      else if (this.drained.has(c.Id)) continue;
      else if (this.cfg.start_at === 'beginning' || this.ctx.cursors.get(`logs/${c.Id}`) !== undefined) this.follow(c.Id);
    }
  }

  private follow(id: string): void {
    if (!this.running || this.ignored.has(id)) return;
    if (this.followers.has(id)) {
      // A start while the last read of a stop is under way: follow again once that read is done.
      this.again.add(id);
      return;
    }
    this.drained.delete(id);
    const p = this.followContainer(id)
      .then((end) => {
        if (end === 'drained') this.drained.add(id);
      })
      .catch((err) => this.ctx.telemetry.event('logs.follow.failed', 'warn', `logs of ${id.slice(0, 12)}: ${(err as Error).message}`, { container: { id } }))
      .finally(() => {
        this.followers.delete(id);
        this.ctx.telemetry.followedContainers.set(this.followers.size);
        if (this.again.delete(id)) this.follow(id);
      });
    this.followers.set(id, p);
    this.ctx.telemetry.followedContainers.set(this.followers.size);
  }

  /**
   * Reads one container's log until it is drained: a follow stream ends at container exit
   * (possibly before the engine has sent the tail of its log file), at an engine restart, or on
   * an error, so every end is followed by a look at the container and another read from where
   * this one stopped: following again while it runs, a plain read once it has stopped. Only a
   * plain read of a stopped container that returns nothing new drains it. All reads share one
   * tracker, so the cursor never passes a line that is not acknowledged.
   */
  private async followContainer(id: string): Promise<FollowEnd> {
    const meta = await this.ctx.metadata.get(id);
    if (!meta) return 'unknown';
    if (!this.wanted(meta)) {
      this.ignored.add(id);
      return 'ignored';
    }
    const key = `logs/${id}`;
    const cursor = this.ctx.cursors.get<LogCursor>(key);
    let since = cursor ? sinceArg(cursor.sec, cursor.nanos) : this.cfg.start_at === 'end' ? String(Date.now() / 1000) : '0';
    const read = { sec: 0 };
    const lag = this.ctx.telemetry.logLag;
    const tracker = new AckTracker<LogCursor>((c) => {
      this.ctx.cursors.set(key, c);
      lag.set({ container: meta.name }, Math.max(0, read.sec - c.sec));
    });
    const position = new LogPosition();
    const emit = this.lineEmitter(meta, tracker, read, position);
    let follow = true;
    let idle = 0;
    try {
      while (this.running) {
        const fresh = await this.readOnce(id, meta, since, follow, position, emit);
        if (!this.running) break;
        const state = await this.ctx.docker.getContainer(id).inspect().catch(() => undefined);
        // The engine is away or the container gone: the scan after the event stream reconnects looks again.
        if (!state) return 'unknown';
        since = position.since() ?? since;
        if (state.State.Running) {
          // Following a running container again: wait a little after an empty read (an engine restarting).
          idle = fresh === 0 ? idle + 1 : 0;
          if (idle > 0) await new Promise((r) => setTimeout(r, Math.min(1000 * idle, 5000)).unref?.());
          follow = true;
        } else if (!follow && fresh === 0) {
          return 'drained';
        } else {
          follow = false;
        }
      }
      return 'stopped';
    } finally {
      if (tracker.pending === 0) lag.remove({ container: meta.name });
    }
  }

  /** One logs request from `since`, to its end; returns how many new lines it emitted. */
  private async readOnce(id: string, meta: ContainerMeta, since: string, follow: boolean, position: LogPosition, emit: (line: LogLine) => void): Promise<number> {
    let stream: IncomingMessage;
    try {
      stream = await openLogStream(this.ctx.docker, id, { follow, stdout: true, stderr: true, timestamps: true, since }, this.stopping.signal);
    } catch (err) {
      if (!this.running) return 0; // aborted by stop()
      throw err;
    }
    if (!this.running) {
      // Opened as stop() destroyed the others: a follow of a quiet container would hold stop until it exits.
      stream.destroy();
      return 0;
    }
    this.streams.add(stream);
    this.ctx.telemetry.event('logs.follow.start', 'info', `${follow ? 'following' : 'reading'} ${meta.name} (${id.slice(0, 12)}) since ${since}`, { container: { id, name: meta.name } });
    position.resume();
    const before = position.emitted;
    const decoder = new LogDecoder({ multiplexed: !meta.tty, maxLineBytes: this.cfg.max_line_bytes }, (line) => {
      if (position.isNew(line)) emit(line);
    });
    const { output } = this.ctx;
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        decoder.push(chunk);
        if (!output.writable && !stream.isPaused()) {
          // Backpressure: leave the lines in the engine's log file until the queue drains.
          stream.pause();
          this.ctx.telemetry.event('logs.paused', 'debug', `paused ${meta.name}: queue full`);
          void output.whenWritable().then(() => stream.resume());
        }
      });
      stream.on('end', () => {
        decoder.end();
        resolve();
      });
      stream.on('close', resolve);
      stream.on('error', (err) => {
        this.ctx.telemetry.event('logs.stream.error', 'warn', `log stream of ${meta.name}: ${err.message}`);
        resolve();
      });
    });
    this.streams.delete(stream);
    const fresh = position.emitted - before;
    this.ctx.telemetry.event('logs.follow.end', 'info', `stopped ${follow ? 'following' : 'reading'} ${meta.name} (${id.slice(0, 12)}): ${fresh} new lines`, { container: { id, name: meta.name } });
    return fresh;
  }

  private wanted(meta: ContainerMeta): boolean {
    if (!READABLE_DRIVERS.has(meta.logDriver)) {
      this.ctx.telemetry.event('logs.driver.unreadable', 'warn', `${meta.name}: log driver ${meta.logDriver} cannot be read through the API; skipped`);
      return false;
    }
    if (meta.labels['dockward.logs'] === 'false') return false;
    if (this.include.length && !this.include.some((m) => m(meta.name))) return false;
    return !this.exclude.some((m) => m(meta.name));
  }

  /** Builds the per-line function for one container: everything constant is built once here. */
  private lineEmitter(meta: ContainerMeta, tracker: AckTracker<LogCursor>, read: { sec: number }, position: LogPosition): (line: LogLine) => void {
    const container = containerFields(meta);
    const { output, telemetry, tamper } = this.ctx;
    const bomb = labelTamper(meta);
    if (bomb) tamper?.(bomb);
    const last = position.last;
    const build = logDocument(DATASET, container, this.base);
    const created = createdClock();
    return (line) => {
      const prev = last[line.stream];
      if (prev.sec === line.sec && prev.nanos === line.nanos) prev.ord++;
      else {
        prev.sec = line.sec;
        prev.nanos = line.nanos;
        prev.ord = 0;
      }
      read.sec = line.sec;
      position.emitted++;
      const level = detectLevel(line.message);
      const flags = line.truncated ? (line.joined ? ['truncated', 'partial'] : ['truncated']) : line.joined ? ['partial'] : undefined;
      telemetry.countLine(line.stream);
      // A line past the cap: the rest was dropped, so detection saw only its head (TamperSink groups the repeats).
      if (line.truncated) tamper?.({ container: meta.id, kind: 'log-flood', detail: `${line.stream} line of ${line.bytes} bytes cut at ${this.cfg.max_line_bytes}` });
      const { doc, json } = build({
        time: line.time,
        message: line.message,
        stream: line.stream,
        log: level || flags ? { ...(level ? { level } : {}), ...(flags ? { flags } : {}) } : undefined,
        created: created(),
      });
      output.send({
        index: this.index,
        id: deterministicId(meta.id, line.stream, line.sec, line.nanos, prev.ord),
        doc,
        json,
        ack: tracker.issue({ sec: line.sec, nanos: line.nanos }),
        replayable: true,
      });
    };
  }
}
