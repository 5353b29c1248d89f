import type { Envelope } from './envelope';
import type { DocumentQueue, PollableQueue, Queued } from './queue';

/**
 * Durability paid only where it buys something (queue.type disk, queue.replayable: memory):
 * a document its source can read again (`replayable`: container logs, whose cursor moves only on
 * Elasticsearch's acknowledgement) goes through memory; everything else (engine and kernel events,
 * stats, alerts, signals: nothing replays them) through the disk spool. A crash loses only what
 * the cursor has not passed, and that is read again from the engine's log file (409 duplicates
 * for what had been delivered). Serialising, writing, fsyncing and reading back every log line was
 * most of the CPU a line cost (issue 20's profile).
 *
 * The sink takes from both: each take starts with the other queue than the last one did, so a log
 * flood filling every batch cannot starve alerts (nor the reverse). `writable` is both's: a full
 * memory queue pauses the log streams (lag, not loss), a full spool everything that can pause.
 */
export class SplitQueue implements DocumentQueue {
  private closed = false;
  private first = 0;
  private readonly waits: Array<Promise<void> | undefined> = [undefined, undefined];

  constructor(readonly memory: PollableQueue, readonly disk: PollableQueue) {}

  push(env: Envelope): void {
    (env.replayable ? this.memory : this.disk).push(env);
  }

  get writable(): boolean {
    return this.memory.writable && this.disk.writable;
  }

  async whenWritable(): Promise<void> {
    while (!this.closed && !this.writable) await (this.memory.writable ? this.disk : this.memory).whenWritable();
  }

  get size(): number {
    return this.memory.size + this.disk.size;
  }

  get byteSize(): number {
    return this.memory.byteSize + this.disk.byteSize;
  }

  get spooled(): DocumentQueue['spooled'] {
    return this.disk.spooled;
  }

  async take(maxDocs: number, maxBytes: number, lingerMs: number): Promise<Queued[]> {
    const queues = [this.memory, this.disk];
    const order = this.first === 0 ? [0, 1] : [1, 0];
    this.first ^= 1;
    const out: Queued[] = [];
    let bytes = 0;
    const deadline = Date.now() + lingerMs;
    for (;;) {
      for (const i of order) {
        if (out.length >= maxDocs || bytes >= maxBytes) break;
        for (const q of queues[i].poll(maxDocs - out.length, maxBytes - bytes)) {
          out.push(q);
          bytes += q.bytes;
        }
      }
      if (out.length >= maxDocs || bytes >= maxBytes || this.closed) return out;
      const left = out.length ? deadline - Date.now() : Infinity;
      if (left <= 0) return out;
      let timer: NodeJS.Timeout | undefined;
      const timeout = Number.isFinite(left) ? new Promise<void>((resolve) => (timer = setTimeout(resolve, left))) : undefined;
      await Promise.race([this.readable(0), this.readable(1), ...(timeout ? [timeout] : [])]);
      clearTimeout(timer);
    }
  }

  /** One pending wait per queue, shared by successive takes: a wait lost to the other queue or the timeout is kept, not registered again. */
  private readable(i: 0 | 1): Promise<void> {
    return (this.waits[i] ??= (i === 0 ? this.memory : this.disk).whenReadable().then(() => {
      this.waits[i] = undefined;
    }));
  }

  close(): void {
    this.closed = true;
    this.memory.close();
    this.disk.close();
  }

  dispose(): void {
    this.disk.dispose?.();
  }
}
