/**
 * Contextual Anomaly Detector, open-source edition (CAD OSE, Mikhail Smirnov 2016, MIT; NAB's
 * nab/detectors/context_ose), ported step for step. A value is quantised to a few bits; each bit
 * becomes a "fact". The detector learns "contexts" (left facts → right facts) from consecutive
 * steps, and the facts of the previous step include the contexts that were active then, so it
 * learns sequences, not just values. Raw score: share of predicted contexts that did not happen,
 * plus the share of newly learned contexts among the candidates.
 *
 * Deviations from the Python, each on purpose:
 * - Python keys semi-contexts by tuple hash and breaks ties between equally counted contexts by
 *   that hash (an arbitrary order that differs between Python versions); we key by the facts
 *   themselves and break ties by context id, which is deterministic.
 * - Python's `newContextID = False` compares equal to context 0; we keep that quirk (context 0
 *   is skipped while no new context is pending) because it shapes the published scores.
 * - Memory: contexts only grow in the original. `maxContexts` caps them; past the cap no new
 *   context is learned (the novelty term then reads 0) — the bound a long-lived daemon needs.
 *   Contexts and semi-contexts are kept as typed columns (cad-tables.ts), not as tuples, objects
 *   and Maps: a daemon holds tens of thousands per container (bench/anomaly-cost.ts).
 */
import { ContextTable, NEURON_BASE, SemiTable } from './cad-tables';


/** count, zero-level flag, left semi id, right semi id */
type Context = [number, number, number, number];
type FactPair = [number[], number[]];

export interface CadState {
  left: Array<[number[], Array<[number, number]>]>;
  right: number[][];
  contexts: Context[];
  leftFactsGroup: number[];
  history: number[];
}

export class ContextOperator {
  private readonly left = new SemiTable();
  private readonly right = new SemiTable();
  private crossedLeft: number[] = [];
  private leftInput: ReadonlySet<number> = new Set();
  private rightInput: ReadonlySet<number> = new Set();
  readonly contexts = new ContextTable();
  private newContextID = 0;

  constructor(private readonly maxLeftLen: number, private readonly maxContexts: number) {}

  /** The context of left semi `l` and right semi `r`, or -1. */
  private contextOf(l: number, r: number): number {
    const ctx = this.contexts;
    for (let c = this.left.head[l]; c >= 0; c = ctx.next[c]) if (ctx.right[c] === r) return c;
    return -1;
  }

  private learn(zero: number, l: number, r: number, count = 0): number {
    const id = this.contexts.push(zero, l, r, count);
    if (this.left.tail[l] < 0) this.left.head[l] = id;
    else this.contexts.next[this.left.tail[l]] = id;
    this.left.tail[l] = id;
    return id;
  }

  /** Zero level: true when the context is new. Otherwise: how many contexts were added. */
  getContextByFacts(list: FactPair[], zeroLevel: boolean): number | boolean {
    let added = 0;
    for (const [lf, rf] of list) {
      if (this.contexts.length >= this.maxContexts && !this.exists(lf, rf)) {
        if (zeroLevel) return false;
        continue;
      }
      const l = this.left.add(lf);
      const r = this.right.add(rf);
      const known = this.contextOf(l, r);
      if (known < 0) {
        const id = this.learn(zeroLevel ? 1 : 0, l, r);
        added++;
        if (zeroLevel) {
          this.newContextID = id;
          return true;
        }
      } else if (zeroLevel) {
        this.contexts.zero[known] = 1;
        return false;
      }
    }
    return added;
  }

  private exists(lf: number[], rf: number[]): boolean {
    const l = this.left.find(lf);
    const r = l < 0 ? -1 : this.right.find(rf);
    return r >= 0 && this.contextOf(l, r) >= 0;
  }

  /** Marks which facts of each semi-context are present in `facts`. */
  cross(side: 0 | 1, facts: readonly number[]): void {
    // Only semi-contexts holding one of the facts can be crossed; visiting them in id order keeps
    // the original's order (it scanned every semi-context, which made a step O(memory)).
    if (side === 0) {
      this.crossedLeft = this.left.cross(facts);
      this.leftInput = new Set(facts);
    } else {
      this.right.cross(facts);
      this.rightInput = new Set(facts);
    }
  }

  updateContextsAndGetActive(newContextFlag: boolean): { active: number[]; selected: number; potential: FactPair[] } {
    const active: number[] = [];
    const potential: FactPair[] = [];
    let selected = 0;
    const ctx = this.contexts;
    const { left, right } = this;
    for (const l of this.crossedLeft) {
      const lCrossed = left.crossed[l];
      const whole = left.size(l) === lCrossed;
      for (let c = left.head[l]; c >= 0; c = ctx.next[c]) {
        if (this.newContextID === c) continue;
        const r = ctx.right[c];
        const rCrossed = right.crossed[r];
        if (whole) {
          selected++;
          if (rCrossed > 0) {
            if (right.size(r) === rCrossed) {
              ctx.count[c]++;
              active.push(c);
            } else if (ctx.zero[c] && newContextFlag && lCrossed <= this.maxLeftLen) {
              potential.push([left.crossedFacts(l, this.leftInput), right.crossedFacts(r, this.rightInput)]);
            }
          }
        } else if (ctx.zero[c] && newContextFlag && rCrossed > 0 && lCrossed <= this.maxLeftLen) {
          potential.push([left.crossedFacts(l, this.leftInput), right.crossedFacts(r, this.rightInput)]);
        }
      }
    }
    this.newContextID = 0;
    return { active, selected, potential };
  }

  snapshot(): Pick<CadState, 'left' | 'right' | 'contexts'> {
    const c = this.contexts;
    const lists = (l: number): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      for (let i = this.left.head[l]; i >= 0; i = c.next[i]) out.push([c.right[i], i]);
      return out;
    };
    return {
      left: Array.from({ length: this.left.length }, (_, l) => [this.left.facts(l).sort((a, b) => a - b), lists(l)]),
      right: Array.from({ length: this.right.length }, (_, r) => this.right.facts(r).sort((a, b) => a - b)),
      contexts: Array.from({ length: c.length }, (_, i): Context => [c.count[i], c.zero[i], c.left[i], c.right[i]]),
    };
  }

  restore(s: Pick<CadState, 'left' | 'right' | 'contexts'>): void {
    for (const [facts] of s.left) this.left.add(facts);
    for (const facts of s.right) this.right.add(facts);
    // A left semi-context's contexts are in learning order, which is id order: the lists are
    // rebuilt from the table (the saved lists say the same, and cannot form a cycle this way).
    for (const [count, zero, l, r] of s.contexts) this.learn(zero, l, r, count);
  }
}

export interface CadOptions {
  baseThreshold: number;
  restPeriod: number;
  maxLeftSemiContextsLength: number;
  maxActiveNeurons: number;
  maxContexts: number;
}

/** CAD's learning step over a set of input facts; returns the raw (unsuppressed) score in [0, 1]. */
export class Cad {
  private readonly op: ContextOperator;
  private leftFactsGroup: number[] = [];

  constructor(private readonly o: CadOptions) {
    this.op = new ContextOperator(o.maxLeftSemiContextsLength, o.maxContexts);
  }

  get contextCount(): number {
    return this.op.contexts.length;
  }

  step(input: readonly number[]): number {
    const sens = [...new Set(input)].sort((a, b) => a - b);
    const uniq = new Set<string>();
    let newContextFlag = false;
    if (this.leftFactsGroup.length > 0 && sens.length > 0) {
      const zero: FactPair = [this.leftFactsGroup, sens];
      uniq.add(pairKey(zero));
      newContextFlag = this.op.getContextByFacts([zero], true) as boolean;
    }
    this.op.cross(1, sens);
    const { active, selected, potential } = this.op.updateContextsAndGetActive(newContextFlag);
    for (const p of potential) uniq.add(pairKey(p));
    const activeShare = selected > 0 ? active.length / selected : 0;

    const { count, left, right } = this.op.contexts;
    active.sort((a, b) => count[a] - count[b] || left[a] - left[b] || right[a] - right[b]);
    const neurons = active.slice(-this.o.maxActiveNeurons).map((id) => NEURON_BASE + id);
    this.leftFactsGroup = [...new Set([...sens, ...neurons])].sort((a, b) => a - b);

    let added = potential.length > 0 ? (this.op.getContextByFacts(potential, false) as number) : 0;
    this.op.cross(0, this.leftFactsGroup);
    added += newContextFlag ? 1 : 0;
    const addedShare = newContextFlag && uniq.size > 0 ? added / uniq.size : 0;
    return (1 - activeShare + addedShare) / 2;
  }

  snapshot(): Omit<CadState, 'history'> {
    return { ...this.op.snapshot(), leftFactsGroup: [...this.leftFactsGroup] };
  }

  restore(s: Omit<CadState, 'history'>): void {
    this.op.restore(s);
    this.leftFactsGroup = [...s.leftFactsGroup];
    this.op.cross(0, this.leftFactsGroup);
  }
}

function pairKey([l, r]: FactPair): string {
  return `${l.join(',')}|${r.join(',')}`;
}

/** CAD's output stage: after a score ≥ baseThreshold, report 0 for `restPeriod` steps. */
export class RestSuppressor {
  private readonly history: number[];
  constructor(private readonly restPeriod: number, private readonly threshold: number, history: number[] = [1]) {
    this.history = history.slice(-Math.max(1, Math.floor(restPeriod)));
  }
  apply(score: number): number {
    const n = Math.max(1, Math.floor(this.restPeriod));
    let max = -Infinity;
    for (let i = Math.max(0, this.history.length - n); i < this.history.length; i++) max = Math.max(max, this.history[i]);
    const out = max < this.threshold ? score : 0;
    this.history.push(score);
    if (this.history.length > n) this.history.shift();
    return out;
  }
  get state(): number[] {
    return [...this.history];
  }
}
