import { hash } from 'node:crypto';

/**
 * What travels from the collectors to the sink: an ECS document, where it goes, its deterministic
 * `_id`, and the token that tells its source when the document is safely stored.
 */
export interface Envelope {
  /** Target data stream, e.g. logs-dockward.container-default. */
  index: string;
  /** Derived from what identifies the fact, never from when dockward saw it: a re-send is a 409. */
  id: string;
  doc: Record<string, unknown>;
  ack?: AckToken;
  /**
   * Its source reads it again from its cursor if it is lost before Elasticsearch acknowledged it
   * (container logs, from the engine's log files): it need not be spooled to disk (SplitQueue).
   */
  replayable?: boolean;
  /** `doc` already serialised by its source (exactly JSON.stringify(doc)): the queue uses it as it is. */
  json?: string;
}

/** Final outcomes. A document reaches exactly one of them; retries are not outcomes. */
export type Outcome = 'acked' | 'duplicate' | 'dead_lettered' | 'dropped';

export interface AckToken {
  done(outcome: Outcome): void;
}

/** A short, stable id from the parts that identify a fact: 27 url-safe chars (sha1). */
export function deterministicId(...parts: Array<string | number>): string {
  // One-shot crypto.hash (Node >= 20.12): the same digest without a Hash object per id, ~3x faster.
  return hash('sha1', parts.join('\u0000'), 'base64url');
}

/** `<type>-<dataset>-<namespace>`, dataset being e.g. "dockward.container". */
export function streamName(type: 'logs' | 'metrics', dataset: string, namespace: string): string {
  return `${type}-${dataset}-${namespace}`;
}
