import { createHash } from 'node:crypto';
import { EvaluationBudget } from '../../detect/budget';
import type { ProcessFact } from './facts';

export interface FloodOptions {
  /** Process documents one container may cause per second; 0: no limit. */
  rate: number;
  /** Documents it may cause at once before the rate applies. */
  burst: number;
  /** Distinct command lines folded per container and window; the rest are dropped and counted. */
  maxKinds: number;
}

/** What one window folded for one container: a document per distinct command, and the counts. */
export interface FoldedWindow {
  container: string;
  /** The first fact of each distinct command, with how many identical starts it stands for. */
  facts: ProcessFact[];
  /** Starts over the budget in this window, ends of folded starts included as `ends`. */
  starts: number;
  ends: number;
  dropped: number;
}

interface Group {
  kinds: Map<string, ProcessFact>;
  starts: number;
  ends: number;
  dropped: number;
}

/**
 * A document counts once per this many characters of command line it carries (boundArgs keeps at
 * most 8 KiB: three times): what a document costs this thread grows with it (M2: a burst of a
 * thousand 8 KiB command lines held 150 MB of heap until collected).
 */
export const ARG_CHARS_PER_DOCUMENT = 4096;

function weight(f: ProcessFact): number {
  let n = 0;
  for (const a of f.args ?? []) n += a.length + 1;
  return 1 + Math.floor(n / ARG_CHARS_PER_DOCUMENT);
}

/** Folded starts whose ends are still due: bounded, oldest forgotten first (their end then counts against the budget). */
const MAX_FOLDED_PIDS = 20_000;

/**
 * A per-container budget for kernel process documents. Process documents cannot be replayed, so
 * each one is spooled, matched and shipped on the thread every container shares; a container that
 * execs hundreds of times a second (a crafted exec flood, or a fork bomb) would otherwise freeze
 * /health and delay everyone's documents. Within the budget every fact is a document; over it,
 * identical starts (same program and arguments) fold into the document of the first, which carries
 * how many it stands for (`dockward.process.folded.count`), their ends are counted, not
 * documented, and distinct commands past `maxKinds` per window are dropped and counted. Rules still
 * see each distinct command once per window; nothing is lost silently.
 */
export class ExecFlood {
  private readonly buckets: EvaluationBudget;
  private readonly groups = new Map<string, Group>();
  /**
   * Folded starts whose ends are due, in two generations: past MAX_FOLDED_PIDS / 2 the older one
   * is forgotten whole (evicting the oldest entry one at a time cost a scan over a Set's deleted
   * slots per start: seconds a second under a flood).
   */
  private foldedPids = new Set<string>();
  private olderFoldedPids = new Set<string>();

  constructor(private readonly opts: FloodOptions, now?: () => number) {
    this.buckets = new EvaluationBudget(opts.rate, Math.max(opts.burst, 1), now);
  }

  /** True: document this fact now. False: it was folded, counted or dropped (see take()). */
  admit(f: ProcessFact): boolean {
    if (this.opts.rate <= 0 || f.scan) return true;
    const pidKey = `${f.container}:${f.pid}:${f.start}`;
    if (f.type === 'end' && (this.foldedPids.delete(pidKey) || this.olderFoldedPids.delete(pidKey))) {
      this.group(f.container).ends++;
      return false;
    }
    if (this.buckets.allows(f.container)) {
      this.buckets.spend(f.container, weight(f));
      return true;
    }
    const g = this.group(f.container);
    if (f.type === 'end') {
      g.ends++;
      return false;
    }
    g.starts++;
    this.foldedPids.add(pidKey);
    if (this.foldedPids.size > MAX_FOLDED_PIDS / 2) {
      this.olderFoldedPids = this.foldedPids;
      this.foldedPids = new Set();
    }
    const kind = commandKey(f);
    const first = g.kinds.get(kind);
    if (first) first.folded = { count: first.folded!.count + 1, last: f.ts ?? first.folded!.last };
    else if (g.kinds.size < this.opts.maxKinds) g.kinds.set(kind, { ...f, folded: { count: 1, last: f.ts } });
    else g.dropped++;
    return false;
  }

  /** Everything folded since the last call, per container; call once per window. */
  take(): FoldedWindow[] {
    const out: FoldedWindow[] = [];
    for (const [container, g] of this.groups) out.push({ container, facts: [...g.kinds.values()], starts: g.starts, ends: g.ends, dropped: g.dropped });
    this.groups.clear();
    return out;
  }

  private group(container: string): Group {
    let g = this.groups.get(container);
    if (!g) this.groups.set(container, (g = { kinds: new Map(), starts: 0, ends: 0, dropped: 0 }));
    return g;
  }
}

/** Program, arguments and exec session: identical starts fold together (args are bounded, boundArgs). */
function commandKey(f: ProcessFact): string {
  const key = `${f.leader.pid}\0${f.executable ?? f.name ?? ''}\0${f.noexec || f.forkOnly ? 'x' : ''}\0${(f.args ?? []).join('\0')}`;
  // V8 hashes a string past 16 KiB by its length alone: padded commands of one length would share
  // a Map bucket and be compared whole on every start. A digest keeps lookups short there; below
  // it V8's own hash is cheaper than one (args are bounded to 8 KiB, so this is the rare case).
  return key.length >= 16_000 ? createHash('sha1').update(key).digest('base64') : key;
}
