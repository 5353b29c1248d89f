import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Telemetry } from '../telemetry/telemetry';
import { DIR_MODE, privateDir, quarantine, readStateFile, writeStateFile, zodReason } from './state-file';

/** A log cursor: the engine timestamp of a line, seconds and nanoseconds. */
const logCursor = z.strictObject({ sec: z.number().int().min(0).max(1e11), nanos: z.number().int().min(0).max(999_999_999) });
/** The events cursor: an engine event's `timeNano`, as decimal text (read back as a BigInt). */
const eventsCursor = z.string().regex(/^\d{1,20}$/, 'not a decimal timeNano');

/** Any other source's key: `<source>` or `<source>/<id>`, its value kept as it is (forward compatible). */
const OTHER_KEY = /^[a-z][a-z0-9_-]{0,63}(\/[0-9A-Za-z_.:-]{1,128})?$/;

function cursorSchema(key: string): z.ZodType | undefined {
  if (key === 'events') return eventsCursor;
  if (key.startsWith('logs/')) return /^logs\/[0-9A-Za-z_.-]{1,128}$/.test(key) ? logCursor : undefined;
  return OTHER_KEY.test(key) ? z.unknown() : undefined;
}

export const cursorFileSchema = z.strictObject({
  version: z.literal(1),
  // not z.record: it leaves out a "__proto__" key silently, and every key is to be checked here
  cursors: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'not an object of cursors').superRefine((cursors, ctx) => {
    for (const [key, value] of Object.entries(cursors)) {
      const schema = cursorSchema(key);
      const r = schema?.safeParse(value);
      if (!schema) ctx.addIssue({ code: 'custom', path: [key], message: 'not a cursor key' });
      else if (r && !r.success) ctx.addIssue({ code: 'custom', path: [key], message: zodReason(r.error) });
    }
  }),
});

/** Far above any real file (about 100 bytes per container). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const RETRY_MAX_MS = 30_000;

/**
 * Resume points, one JSON file: `{ "version": 1, "cursors": { "<key>": <value> } }`.
 * Keys are "logs/<container id>" ({ sec, nanos }) and "events" (a timeNano string). A value is
 * written here only after Elasticsearch acknowledged everything up to it (see AckTracker), so after
 * a crash a source resumes at or before what was stored, and deterministic ids turn the overlap
 * into 409s. Writes are batched (at most one per `flushMs`) and atomic (state-file.ts).
 *
 * Faults degrade, never stop dockward:
 * - a file that is not a valid cursor file (garbage, empty, truncated, another version, a bad
 *   value, a symlink or FIFO) is moved aside as `cursors.json.corrupt-<timestamp>`, said once
 *   (`cursors.quarantined`, in /health too) and every source starts afresh (logs at `start_at`);
 * - a write that fails (a full disk) keeps the cursors in memory, is said once
 *   (`cursors.write_failed`, /health degraded) and retried with backoff until it works.
 */
export class CursorStore {
  private readonly file: string;
  private cursors = new Map<string, unknown>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private dirReady = false;
  /** Set while writes fail: since when, and the next retry's delay. */
  private failing: { since: number; delay: number } | undefined;

  constructor(private readonly dir: string, private readonly telemetry: Telemetry, private readonly flushMs = 1000) {
    this.file = join(dir, 'cursors.json');
    try {
      const open = privateDir(dir);
      this.dirReady = true;
      if (open !== undefined) telemetry.event('state.dir.open', 'warn', `state_dir ${dir} has mode ${open.toString(8)}: other users can list it (dockward's files in it are 0600)`, { file: { path: dir } });
    } catch {
      // Not creatable now (a full disk, a read-only mount): the first flush tries again and says so.
    }
    this.load();
  }

  private load(): void {
    let data: unknown;
    try {
      const text = readStateFile(this.file, MAX_FILE_BYTES);
      if (text === undefined) return;
      data = JSON.parse(text);
    } catch (err) {
      return this.reject(err instanceof SyntaxError ? `not JSON (${err.message})` : (err as Error).message);
    }
    const r = cursorFileSchema.safeParse(data);
    if (!r.success) return this.reject(zodReason(r.error));
    this.cursors = new Map(Object.entries(r.data.cursors));
  }

  private reject(reason: string): void {
    const aside = quarantine(this.file);
    const where = aside ? `moved to ${aside}` : 'could not be moved aside (the next save replaces it)';
    this.telemetry.event('cursors.quarantined', 'error', `cursor file ${this.file} cannot be used: ${reason}; ${where}. Every source starts afresh (container logs at collectors.logs.start_at)`, { file: { path: aside ?? this.file } });
    this.telemetry.health.degrade('cursors', `${this.file} was unusable (${reason}) and ${where}; sources started afresh`);
  }

  get<T>(key: string): T | undefined {
    return this.cursors.get(key) as T | undefined;
  }

  keys(prefix: string): string[] {
    return [...this.cursors.keys()].filter((k) => k.startsWith(prefix));
  }

  set(key: string, value: unknown): void {
    this.cursors.set(key, value);
    this.markDirty();
  }

  delete(key: string): void {
    if (this.cursors.delete(key)) this.markDirty();
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes the cursors if they changed. Never throws: a failed write is retried (see the class). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    try {
      if (!this.dirReady) mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
      this.dirReady = true;
      writeStateFile(this.file, JSON.stringify({ version: 1, cursors: Object.fromEntries(this.cursors) }));
    } catch (err) {
      this.failed(err as Error);
      return;
    }
    this.dirty = false;
    if (this.failing) {
      const s = Math.round((Date.now() - this.failing.since) / 1000);
      this.failing = undefined;
      this.telemetry.health.clear('cursors.write');
      this.telemetry.event('cursors.write_recovered', 'info', `cursors saved to ${this.file} again after ${s} s of failed writes`);
    }
  }

  private failed(err: Error): void {
    if (!this.failing) {
      this.failing = { since: Date.now(), delay: Math.max(100, this.flushMs) };
      this.telemetry.event('cursors.write_failed', 'error', `cannot save cursors to ${this.file}: ${err.message}; they are kept in memory and the write is retried`, { file: { path: this.file } });
    } else this.failing.delay = Math.min(this.failing.delay * 2, RETRY_MAX_MS);
    this.telemetry.health.degrade('cursors.write', `cannot save ${this.file}: ${err.message}`);
    this.timer = setTimeout(() => this.flush(), this.failing.delay);
    // a retry alone must not keep a stopping process alive
    this.timer.unref();
  }
}
