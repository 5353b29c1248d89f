import { setImmediate as yieldTurn } from 'node:timers/promises';
import { z } from 'zod';
import { containerFields, labelTamper } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { deterministicId } from '../ship/envelope';
import type { CollectorContext } from './collector';
import { readChanges, type Change } from './drift-changes';
import { Fold, type FoldState } from './drift-fold';
import { PeriodicCollector, periodicConfig } from './periodic';

export const driftConfig = periodicConfig('0 * * * * *', {
  /** Path prefixes whose changes are expected and not reported. */
  ignore_paths: z.array(z.string()).default(['/proc', '/sys', '/dev']),
  /** Documents per container and scan; the rest of the diff becomes one summary document. */
  max_changes_per_scan: z.number().int().min(10).default(1000),
});
export type DriftConfig = z.output<typeof driftConfig>;

const DATASET = 'dockward.file';
type Kind = 'change' | 'creation' | 'deletion';
const KIND: Kind[] = ['change', 'creation', 'deletion'];
const kindOf = (k: number): Kind => KIND[k] ?? 'change';
/** Documents sent between two yields to the event loop. */
const BATCH = 250;
/** Paths in a summary document. */
const SAMPLE = 20;
/** Longer paths (deep trees can pass PATH_MAX) are only counted, never a document of their own. */
const MAX_PATH_BYTES = 4096;

/** What a container's previous scan left: at most max_changes_per_scan paths, the rest folded. */
interface DriftState {
  paths: Map<string, number>;
  rest?: FoldState;
}

interface Summary {
  fold: FoldState;
  total: number;
  previous?: number;
  sample: string[];
}

/**
 * Filesystem drift: `GET /containers/{id}/changes` (what differs from the image) on a schedule,
 * reporting only what changed since the previous scan: a path that appears in the diff (created,
 * changed or deleted against the image), or one that left it (its change was undone: reported as
 * the opposite). The first scan of a container reports its whole diff, marked `baseline`.
 * Identity: container, path, change kind, and the scan that saw it.
 *
 * Bounded against a container that changes 500k files (which made 500k documents, 408 MiB, in one
 * 4.7 s turn): at most `max_changes_per_scan` paths are remembered and reported one by one; the
 * rest of the diff is folded (count per kind and a digest, src/collect/drift-fold.ts) and reported
 * as one summary document whenever it moves, with a drift-bomb tamper report. The diff is read as
 * a stream, documents go out in batches between yields, and only while the output is writable.
 */
export class DriftCollector extends PeriodicCollector<DriftState> {
  readonly name = 'drift';
  private readonly ignored: string[];
  private halted = false;

  constructor(ctx: CollectorContext, private readonly cfg: DriftConfig) {
    super(ctx, cfg, 'logs', DATASET);
    this.ignored = cfg.ignore_paths.map((p) => p.replace(/\/+$/, ''));
  }

  override async start(): Promise<void> {
    this.halted = false;
    await super.start();
  }

  override async stop(): Promise<void> {
    this.halted = true;
    await super.stop();
  }

  private isIgnored(path: string): boolean {
    for (const p of this.ignored) if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 0x2f)) return true;
    return false;
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    const label = labelTamper(meta);
    if (label) this.ctx.tamper?.(label);
    const cap = this.cfg.max_changes_per_scan;
    const before = this.state.get(meta.id);
    const tracked = before?.paths;
    // One pass over the diff: remembered paths with their kind now, and the first others.
    const seen = new Map<string, number>();
    const fresh: Change[] = [];
    const rest = new Fold();
    let total = 0;
    for await (const batch of readChanges(this.ctx.docker, meta.id)) {
      rest.skip(batch.skipped);
      total += batch.skipped;
      for (const c of batch.changes) {
        if (this.isIgnored(c.path)) continue;
        total++;
        if (tracked?.has(c.path)) seen.set(c.path, c.kind);
        else {
          rest.add(c.path, c.kind);
          const long = c.path.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(c.path) > MAX_PATH_BYTES;
          // The first `cap` to report one by one, then SAMPLE more for the summary.
          if (fresh.length < cap + SAMPLE && !long) fresh.push(c);
        }
      }
      await yieldTurn();
      if (this.halted) return;
    }

    const docs: Array<[string, Kind]> = [];
    const next = new Map<string, number>();
    for (const [path, kind] of tracked ?? []) {
      const now = seen.get(path);
      // Gone from the diff: an added file was removed again, or a change was undone.
      if (now === undefined) docs.push([path, kind === 1 ? 'deletion' : 'change']);
      else {
        next.set(path, now);
        if (now !== kind) docs.push([path, kindOf(now)]);
      }
    }
    // Whether every path not remembered is in `fresh` (none too long, none unread).
    const listable = fresh.length === rest.count && rest.skipped === 0;
    let summary: Summary | undefined;
    let folded: FoldState | undefined;
    if (before?.rest) {
      // Which of these paths were folded before is unknown: a change there is one summary. Once
      // they fit in the free slots they are remembered one by one again.
      const moved = !rest.same(before.rest);
      if (listable && rest.count <= cap - next.size) for (const c of fresh) next.set(c.path, c.kind);
      else folded = moved ? rest.state() : before.rest;
      if (moved) summary = { fold: folded ?? new Fold().state(), total, previous: before.rest.count, sample: fresh.slice(0, SAMPLE).map((c) => c.path) };
    } else if (rest.count > 0 || rest.skipped > 0) {
      // All new since the last scan (or the baseline): one by one while the bounds allow.
      const n = Math.min(fresh.length, cap - next.size, cap - docs.length);
      for (const c of fresh.slice(0, n)) {
        docs.push([c.path, kindOf(c.kind)]);
        next.set(c.path, c.kind);
        rest.remove(c.path, c.kind);
      }
      if (rest.count > 0 || rest.skipped > 0) {
        folded = rest.state();
        summary = { fold: folded, total, sample: fresh.slice(n, n + SAMPLE).map((c) => c.path) };
      }
    }
    this.state.set(meta.id, { paths: next, rest: folded });
    if (summary && folded) this.ctx.tamper?.({ container: meta.id, kind: 'drift-bomb', detail: bombDetail(summary, cap) });

    const scan = new Date().toISOString();
    const container = containerFields(meta);
    const baseline = !before;
    for (let i = 0; i < docs.length; i++) {
      if (i > 0 && i % BATCH === 0) await yieldTurn();
      if (!this.ctx.output.writable) await this.ctx.output.whenWritable();
      if (this.halted) return;
      this.emit(meta, container, docs[i][0], docs[i][1], scan, baseline);
    }
    if (summary) {
      if (!this.ctx.output.writable) await this.ctx.output.whenWritable();
      if (!this.halted) this.emitSummary(meta, container, summary, scan, baseline);
    }
  }

  private emit(meta: ContainerMeta, container: Record<string, unknown>, path: string, type: Kind, scan: string, baseline: boolean): void {
    const slash = path.lastIndexOf('/');
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(meta.id, path, type, scan),
      doc: {
        '@timestamp': scan,
        message: `${type} of ${path} in ${meta.name}`,
        event: { kind: 'event', category: ['file'], type: [type], action: `file_${type}`, dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        file: { path, name: path.slice(slash + 1), directory: slash > 0 ? path.slice(0, slash) : '/' },
        container,
        dockward: { drift: { baseline: baseline || undefined } },
        ...this.base,
      },
    });
  }

  private emitSummary(meta: ContainerMeta, container: Record<string, unknown>, s: Summary, scan: string, baseline: boolean): void {
    const [change, creation, deletion] = s.fold.kinds;
    const what = s.fold.count || s.fold.skipped
      ? `${s.fold.count + s.fold.skipped} changed paths in ${meta.name} past the ${this.cfg.max_changes_per_scan} reported one by one (${creation} created, ${change} changed, ${deletion} deleted${s.fold.skipped ? `, ${s.fold.skipped} unreadable` : ''})`
      : `the ${s.previous ?? 0} changed paths of ${meta.name} summarised before are gone or within the bound again`;
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(meta.id, 'summary', scan),
      doc: {
        '@timestamp': scan,
        message: s.previous !== undefined && (s.fold.count || s.fold.skipped) ? `${what}; ${s.previous} before` : what,
        event: { kind: 'event', category: ['file'], type: ['info'], action: 'file_drift_summary', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        container,
        dockward: {
          drift: {
            baseline: baseline || undefined,
            summary: true,
            count: s.fold.count,
            previous: s.previous,
            total: s.total,
            skipped: s.fold.skipped || undefined,
            kinds: { creation, change, deletion },
            // Paths in `fresh` are at most MAX_PATH_BYTES: 20 of them stay small.
            sample: s.sample,
          },
        },
        ...this.base,
      },
    });
  }
}

function bombDetail(s: Summary, cap: number): string {
  const [change, creation, deletion] = s.fold.kinds;
  return `${s.total} changed paths in one scan, ${s.fold.count + s.fold.skipped} past max_changes_per_scan ${cap} (${creation} created, ${change} changed, ${deletion} deleted${s.fold.skipped ? `, ${s.fold.skipped} unreadable` : ''})`;
}
