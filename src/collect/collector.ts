import type Docker from 'dockerode';
import type { EngineEventStream } from '../docker/event-stream';
import type { MetadataCache } from '../enrich/metadata';
import type { Envelope } from '../ship/envelope';
import type { CursorStore } from '../state/cursor-store';
import type { Telemetry } from '../telemetry/telemetry';

/** Where collectors hand their documents: the rest of the flow (enrich → detect → queue). */
export interface Output {
  send(env: Envelope): void;
  /** False when the queue is at its bound: stop reading until whenWritable() resolves. */
  readonly writable: boolean;
  whenWritable(): Promise<void>;
}

export interface CollectorContext {
  docker: Docker;
  events: EngineEventStream;
  metadata: MetadataCache;
  cursors: CursorStore;
  output: Output;
  telemetry: Telemetry;
  namespace: string;
}

/** One signal of the engine turned into documents. It never talks to Elasticsearch. */
export interface Collector {
  readonly name: string;
  start(): Promise<void>;
  /** Stops reading; documents already sent keep flowing to the sink. */
  stop(): Promise<void>;
  /** Cursor for the shared engine event stream this collector needs replayed, if any. */
  eventsSince?(): bigint | undefined;
}
