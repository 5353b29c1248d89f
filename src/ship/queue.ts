import { z } from 'zod';
import { byteSize } from '../config/units';
import type { Envelope } from './envelope';

export const memoryQueueConfig = z
  .object({
    // Three bulks' worth (bulk_max_docs 1,600), like Filebeat's memory queue (3,200 events): with
    // 20,000 the 200k-line burst of bench/log-cost peaked at 446-486 MB RSS, with 4,800 at 337 MB,
    // as fast (what waits here is lines the engine still holds).
    max_docs: z.number().int().positive().default(4800),
    max_bytes: byteSize.prefault('16mb'),
  })
  .strict()
  .prefault({});

/** What the sink reads from and collectors write to: the disk spool or the memory queue. */
export interface DocumentQueue {
  push(env: Envelope): void;
  /** False at the bound: producers stop reading until whenWritable() resolves. */
  readonly writable: boolean;
  whenWritable(): Promise<void>;
  /** Up to maxDocs/maxBytes documents, waiting at most lingerMs after the first; [] once closed and empty. */
  take(maxDocs: number, maxBytes: number, lingerMs: number): Promise<Queued[]>;
  close(): void;
  /** Releases files once the sink has stopped. */
  dispose?(): void;
  readonly size: number;
  readonly byteSize: number;
  /** What the disk spool holds, where there is one (the heartbeat reports it). */
  readonly spooled?: { bytes: number; records: number; ageSeconds: number };
}

/** A queue a SplitQueue can read from without waiting, and be woken by. */
export interface PollableQueue extends DocumentQueue {
  /** What can be taken now, up to the bounds (at least one document when any is there). */
  poll(maxDocs: number, maxBytes: number): Queued[];
  /** Resolves once something may be there to take, or the queue is closed. */
  whenReadable(): Promise<void>;
}

/**
 * An envelope with its document serialized once, at the border between the flow and the sink.
 * The document object itself is dropped there: past this point only its JSON is needed.
 */
export interface Queued {
  env: Omit<Envelope, 'doc'>;
  source: string;
  bytes: number;
  /** Set on the dead-letter document that stands for a refused one. */
  deadLettered?: boolean;
}

/**
 * The bounded in-memory hand-over between the flow and the sink (queue.type: memory): nothing
 * survives a crash, which costs re-reading from the engine, never data. Bounds are soft for a single push
 * (a document is never refused: its source already read it) and hard for sources: `writable` turns
 * false at the bound and producers must wait for `whenWritable()` before reading more. A paused log
 * stream leaves lines in the engine's log files, so a full queue costs lag, not data.
 */
export class BoundedQueue implements PollableQueue {
  private items: Queued[] = [];
  private head = 0;
  private bytes = 0;
  private writers: Array<() => void> = [];
  private taker: (() => void) | undefined;
  private closed = false;

  constructor(private readonly maxDocs: number, private readonly maxBytes: number) {}

  push(env: Envelope): void {
    const source = env.json ?? JSON.stringify(env.doc);
    const bytes = Buffer.byteLength(source);
    this.items.push({ env: { index: env.index, id: env.id, ack: env.ack }, source, bytes });
    this.bytes += bytes;
    this.wakeTaker();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get writable(): boolean {
    return this.size < this.maxDocs && this.bytes < this.maxBytes;
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /**
   * Waits until `maxDocs` documents (or `maxBytes`) are queued, or `lingerMs` after the first one
   * arrived, and takes them. Resolves with [] once closed and empty.
   */
  async take(maxDocs: number, maxBytes: number, lingerMs: number): Promise<Queued[]> {
    while (this.size === 0 && !this.closed) await this.waitForItems();
    if (this.size < maxDocs && this.bytes < maxBytes && !this.closed) {
      const deadline = Date.now() + lingerMs;
      while (this.size < maxDocs && this.bytes < maxBytes && !this.closed) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await Promise.race([this.waitForItems(), sleep(left)]);
      }
    }
    return this.splice(maxDocs, maxBytes);
  }

  poll(maxDocs: number, maxBytes: number): Queued[] {
    return this.size ? this.splice(maxDocs, maxBytes) : [];
  }

  whenReadable(): Promise<void> {
    return this.size > 0 || this.closed ? Promise.resolve() : this.waitForItems();
  }

  close(): void {
    this.closed = true;
    this.wakeTaker();
    this.wakeWriters();
  }

  private splice(maxDocs: number, maxBytes: number): Queued[] {
    const out: Queued[] = [];
    let bytes = 0;
    while (this.head < this.items.length && out.length < maxDocs) {
      const q = this.items[this.head];
      if (out.length > 0 && bytes + q.bytes > maxBytes) break;
      out.push(q);
      bytes += q.bytes;
      this.head++;
    }
    this.bytes -= bytes;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.writable) this.wakeWriters();
    return out;
  }

  private waitForItems(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.taker;
      this.taker = () => {
        prev?.();
        resolve();
      };
    });
  }

  private wakeTaker(): void {
    const t = this.taker;
    this.taker = undefined;
    t?.();
  }

  private wakeWriters(): void {
    const w = this.writers;
    this.writers = [];
    for (const resolve of w) resolve();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
