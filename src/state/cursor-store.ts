import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Resume points, one JSON file: `{ "version": 1, "cursors": { "<key>": <value> } }`.
 * Keys are "logs/<container id>", "events". A value is written here only after Elasticsearch
 * acknowledged everything up to it (see AckTracker), so after a crash a source resumes at or before
 * what was stored, and deterministic ids turn the overlap into 409s. Writes are batched (at most
 * one per `flushMs`) and atomic: a temporary file, fsync, rename.
 */
export class CursorStore {
  private readonly file: string;
  private cursors: Record<string, unknown> = {};
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(dir: string, private readonly flushMs = 1000) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'cursors.json');
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: number; cursors?: Record<string, unknown> };
      if (data.version === 1 && data.cursors) this.cursors = data.cursors;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read cursor file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  get<T>(key: string): T | undefined {
    return this.cursors[key] as T | undefined;
  }

  keys(prefix: string): string[] {
    return Object.keys(this.cursors).filter((k) => k.startsWith(prefix));
  }

  set(key: string, value: unknown): void {
    this.cursors[key] = value;
    this.markDirty();
  }

  delete(key: string): void {
    if (!(key in this.cursors)) return;
    delete this.cursors[key];
    this.markDirty();
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, cursors: this.cursors }));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}
