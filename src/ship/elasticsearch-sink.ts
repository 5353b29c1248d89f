import type { Client } from '@elastic/elasticsearch';
import { z } from 'zod';
import { byteSize, duration } from '../config/units';
import { errorMessage, isRetryableStatus } from '../errors';
import type { Telemetry } from '../telemetry/telemetry';
import type { Outcome } from './envelope';
import { streamName } from './envelope';
import { sleep, type DocumentQueue, type Queued } from './queue';

export const sinkConfig = z
  .object({
    bulk_max_docs: z.number().int().positive().default(1600),
    bulk_max_bytes: byteSize.prefault('5mb'),
    /** How long a partial bulk waits for more documents. */
    flush_interval: duration.prefault('1s'),
    /** Bulk requests in flight at once. */
    concurrency: z.number().int().min(1).max(32).default(2),
    backoff_initial: duration.prefault('500ms'),
    backoff_max: duration.prefault('30s'),
  })
  .strict()
  .prefault({});
export type SinkConfig = z.output<typeof sinkConfig>;

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { reason?: string } };
}

/**
 * Sends queued documents with bulk `create` and gives each one explicit outcome:
 * - 2xx acked; 409 duplicate (its deterministic `_id` is already stored: delivered before);
 * - 429, 5xx, connection errors: retried with jittered exponential backoff, only the failed items;
 * - any other 4xx (mapping errors, …): written to `logs-dockward.deadletter-<ns>` with the reason
 *   and the original document, then counted as dead-lettered. If even that is refused, the
 *   document is logged in full at error level and counted as dropped: never lost silently.
 * A whole-request failure is retried the same way, except 413, which splits the batch.
 */
export class ElasticsearchSink {
  private running = false;
  private abandoned = false;
  private workers: Promise<void>[] = [];
  private inFlight = 0;
  private lastOk = 0;
  private lastError: { at: number; reason: string } | undefined;
  /** When each batch now in flight was taken from the queue: the oldest is the shipper's lag. */
  private readonly takenAt = new Set<{ at: number }>();

  constructor(
    private readonly client: Client,
    private readonly queue: DocumentQueue,
    private readonly cfg: SinkConfig,
    private readonly namespace: string,
    private readonly telemetry: Telemetry,
  ) {
    telemetry.unackedSeconds = () => this.oldestUnackedSeconds();
  }

  /** Seconds since the oldest batch still without outcomes was taken (0 when none is in flight). */
  oldestUnackedSeconds(): number {
    let oldest = Infinity;
    for (const t of this.takenAt) oldest = Math.min(oldest, t.at);
    return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.cfg.concurrency; i++) this.workers.push(this.work());
  }

  /** Sends what is queued, then stops. Resolves when every worker is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.queue.close();
    await Promise.all(this.workers);
  }

  /**
   * Stops retrying: documents still unsent get no outcome, so their sources' cursors stay before
   * them and they are read again from the engine on the next start.
   */
  abandon(): void {
    this.abandoned = true;
    this.queue.close();
  }

  /** Degraded while the newest bulk outcome is a failure and documents wait. */
  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> } {
    const failing = this.lastError !== undefined && this.lastError.at > this.lastOk && this.busy;
    return {
      status: failing ? 'degraded' : 'ok',
      details: {
        queue: { documents: this.queue.size, bytes: this.queue.byteSize },
        last_bulk_ok: this.lastOk ? new Date(this.lastOk).toISOString() : null,
        last_error: this.lastError ? { at: new Date(this.lastError.at).toISOString(), reason: this.lastError.reason } : null,
      },
    };
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.queue.size > 0;
  }

  private async work(): Promise<void> {
    for (;;) {
      const batch = await this.queue.take(this.cfg.bulk_max_docs, this.cfg.bulk_max_bytes, this.running ? this.cfg.flush_interval : 0);
      this.updateGauges();
      if (batch.length === 0 || this.abandoned) {
        if (!this.running || this.abandoned) return;
        continue;
      }
      this.inFlight++;
      const taken = { at: Date.now() };
      this.takenAt.add(taken);
      try {
        await this.deliver(batch);
      } finally {
        this.inFlight--;
        this.takenAt.delete(taken);
      }
    }
  }

  /** Delivers a batch until every document has a final outcome. */
  private async deliver(batch: Queued[]): Promise<void> {
    let pending = batch;
    let attempt = 0;
    while (pending.length > 0 && !this.abandoned) {
      const retry: Queued[] = [];
      let reason = '';
      try {
        const items = await this.bulk(pending);
        // Counted per bulk, not per document: a labelled counter hashes its labels on every inc.
        const tally = new Map<Outcome, number>();
        const retried = new Map<number, number>();
        for (let i = 0; i < pending.length; i++) {
          const item = items[i];
          const q = pending[i];
          if (item.status >= 200 && item.status < 300) this.finish(q, 'acked', tally);
          else if (item.status === 409) this.finish(q, 'duplicate', tally);
          else if (isRetryableStatus(item.status)) {
            retry.push(q);
            reason = `status ${item.status}`;
            retried.set(item.status, (retried.get(item.status) ?? 0) + 1);
          } else retry.push(...this.deadLetter(q, item, tally));
        }
        for (const [outcome, n] of tally) this.telemetry.documents.inc({ outcome }, n);
        for (const [status, n] of retried) this.telemetry.retries.inc({ reason: String(status) }, n);
        this.telemetry.bulkRequests.inc({ result: retry.length ? 'partial' : 'ok' });
        if (retry.length === 0) this.lastOk = Date.now();
        else this.lastError = { at: Date.now(), reason };
      } catch (err) {
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
        this.telemetry.bulkRequests.inc({ result: 'failed' });
        if (status === 413 && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          await this.deliver(pending.slice(0, half));
          await this.deliver(pending.slice(half));
          return;
        }
        // A whole request refused for auth or a proxy's 4xx is retried too: the documents are
        // fine, the path to the cluster is not, and an operator can fix that.
        retry.push(...pending);
        reason = status ? `status ${status}` : errorMessage(err);
        this.lastError = { at: Date.now(), reason };
        this.telemetry.retries.inc({ reason: status ? String(status) : 'connection' }, pending.length);
      }
      // Dead-letter documents made in this round go out with the next attempt.
      pending = retry;
      if (pending.length > 0) {
        const wait = this.backoff(attempt++);
        this.telemetry.event('output.retry', attempt === 1 ? 'warn' : 'debug', `retrying ${pending.length} documents in ${wait} ms (${reason})`, { attempt });
        await sleep(wait);
      }
    }
  }

  private async bulk(batch: Queued[]): Promise<BulkItemResult[]> {
    const operations: string[] = new Array(batch.length * 2);
    for (let i = 0; i < batch.length; i++) {
      operations[2 * i] = `{"create":{"_index":${JSON.stringify(batch[i].env.index)},"_id":${JSON.stringify(batch[i].env.id)}}}`;
      operations[2 * i + 1] = batch[i].source;
    }
    // Pre-serialized strings are passed through by the client's ndjson serializer as they are.
    const res = await this.client.bulk({ operations: operations as unknown as object[], filter_path: 'items.*.status,items.*.error' } as never);
    const items = (res as { items?: Array<Record<string, BulkItemResult>> }).items;
    if (!items || items.length !== batch.length) throw new Error(`bulk answered ${items?.length ?? 0} items for ${batch.length} documents`);
    return items.map((it) => it.create ?? Object.values(it)[0]);
  }

  /** Builds the dead-letter document for a refused one, or gives up on a refused dead letter. */
  private deadLetter(q: Queued, item: BulkItemResult, tally: Map<Outcome, number>): Queued[] {
    const reason = `${item.error?.type ?? 'error'}: ${item.error?.reason ?? 'unknown'}${item.error?.caused_by?.reason ? ` (${item.error.caused_by.reason})` : ''}`;
    if (q.deadLettered) {
      this.telemetry.event('output.dropped', 'error', `dead-letter document refused (${reason}); the original follows`, { document: q.source });
      this.finish(q, 'dropped', tally);
      return [];
    }
    this.telemetry.event('output.dead_letter', 'warn', `document refused by ${q.env.index}: ${reason}`, { status: item.status });
    const index = streamName('logs', 'dockward.deadletter', this.namespace);
    const doc = {
      '@timestamp': new Date().toISOString(),
      message: reason,
      error: { type: item.error?.type, message: reason },
      event: { kind: 'pipeline_error', category: ['configuration'], type: ['info'], dataset: 'dockward.deadletter', module: 'dockward', created: new Date().toISOString() },
      data_stream: { type: 'logs', dataset: 'dockward.deadletter', namespace: this.namespace },
      dockward: { deadletter: { index: q.env.index, id: q.env.id, status: item.status, document: q.source } },
    };
    const source = JSON.stringify(doc);
    const env = { index, id: q.env.id, ack: q.env.ack };
    return [{ env, source, bytes: Buffer.byteLength(source), deadLettered: true }];
  }

  private finish(q: Queued, outcome: Outcome, tally: Map<Outcome, number>): void {
    // A stored dead letter (even one stored before a crash: 409) is the original's final outcome.
    const final: Outcome = q.deadLettered && outcome !== 'dropped' ? 'dead_lettered' : outcome;
    tally.set(final, (tally.get(final) ?? 0) + 1);
    q.env.ack?.done(final);
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.cfg.backoff_max, this.cfg.backoff_initial * 2 ** attempt);
    return Math.round(cap / 2 + Math.random() * (cap / 2));
  }

  private updateGauges(): void {
    this.telemetry.queueDocs.set(this.queue.size);
    this.telemetry.setQueueBytes(this.queue.byteSize);
  }
}
