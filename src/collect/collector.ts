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

/** What a container did to dockward's own inputs; each kind is one T1562 rule (src/detect/tamper.ts). */
export type TamperKind = 'special-file' | 'log-flood' | 'label-bomb' | 'drift-bomb' | 'kernel-overrun' | 'cmdline-padding' | 'detection-budget' | 'exec-flood' | 'kernel-reader-crash';

/** Interference with dockward's inputs seen by a collector: raised as an alert on that container. */
export interface TamperReport {
  /** Full container id; 'host' when no one container can be named (a kernel overrun). */
  container: string;
  kind: TamperKind;
  /** What was seen, for the analyst: path, sizes, counts. Never the attacker's raw bytes unbounded. */
  detail: string;
}

export interface CollectorContext {
  docker: Docker;
  events: EngineEventStream;
  metadata: MetadataCache;
  cursors: CursorStore;
  output: Output;
  telemetry: Telemetry;
  namespace: string;
  /** Reports tampering with dockward's inputs (grouped per container and kind by the detector). */
  tamper?: (report: TamperReport) => void;
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
