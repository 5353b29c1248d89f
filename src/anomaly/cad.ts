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
 *   Contexts are kept as typed columns, not as tuples: a daemon holds tens of thousands per
 *   container (bench/anomaly-cost.ts). (A left semi-context's few contexts stay in a Map: measured,
 *   a Map of one entry takes less than two pushed arrays, which reserve room for 17 each.)
 */

/** `contexts`: right semi-context id → context id, in the order they were learned. */
interface LeftSemi { id: number; facts: number[]; len: number; crossed: number; contexts: Map<number, number> }
interface RightSemi { id: number; facts: number[]; len: number; crossed: number }
/** count, zero-level flag, left semi id, right semi id */
type Context = [number, number, number, number];
type FactPair = [number[], number[]];

const NEURON_BASE = 2 ** 31;

/** Every context's count, zero-level flag, left and right semi-context ids, as columns. */
class ContextTable {
  count = new Float64Array(64);
  zero = new Uint8Array(64);
  left = new Int32Array(64);
  right = new Int32Array(64);
  length = 0;

  push(zero: number, left: number, right: number, count = 0): number {
    if (this.length === this.count.length) this.grow();
    const id = this.length++;
    this.count[id] = count;
    this.zero[id] = zero;
    this.left[id] = left;
    this.right[id] = right;
    return id;
  }

  private grow(): void {
    // by a quarter, not doubling: a table stays near its cap of thousands for the process's life
    const n = Math.ceil(this.count.length * 1.25);
    const widen = <T extends Float64Array | Uint8Array | Int32Array>(a: T, b: T): T => (b.set(a), b);
    this.count = widen(this.count, new Float64Array(n));
    this.zero = widen(this.zero, new Uint8Array(n));
    this.left = widen(this.left, new Int32Array(n));
    this.right = widen(this.right, new Int32Array(n));
  }
}

export interface CadState {
  left: Array<[number[], Array<[number, number]>]>;
  right: number[][];
  contexts: Context[];
  leftFactsGroup: number[];
  history: number[];
}

export class ContextOperator {
  private readonly factsDics: [Map<number, LeftSemi[]>, Map<number, RightSemi[]>] = [new Map(), new Map()];
  private readonly semiKeys: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];
  readonly leftSemis: LeftSemi[] = [];
  readonly rightSemis: RightSemi[] = [];
  private crossed: [LeftSemi[], RightSemi[]] = [[], []];
  readonly contexts = new ContextTable();
  private newContextID = 0;

  constructor(private readonly maxLeftLen: number, private readonly maxContexts: number) {}

  private leftSemi(facts: number[]): number {
    const key = facts.join(',');
    let id = this.semiKeys[0].get(key);
    if (id === undefined) {
      id = this.leftSemis.length;
      this.semiKeys[0].set(key, id);
      const semi: LeftSemi = { id, facts: [], len: facts.length, crossed: 0, contexts: new Map() };
      this.leftSemis.push(semi);
      for (const f of facts) push(this.factsDics[0], f, semi);
    }
    return id;
  }

  private rightSemi(facts: number[]): number {
    const key = facts.join(',');
    let id = this.semiKeys[1].get(key);
    if (id === undefined) {
      id = this.rightSemis.length;
      this.semiKeys[1].set(key, id);
      const semi: RightSemi = { id, facts: [], len: facts.length, crossed: 0 };
      this.rightSemis.push(semi);
      for (const f of facts) push(this.factsDics[1], f, semi);
    }
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
      const l = this.leftSemi(lf);
      const r = this.rightSemi(rf);
      const semi = this.leftSemis[l];
      const known = semi.contexts.get(r);
      if (known === undefined) {
        const id = this.contexts.push(zeroLevel ? 1 : 0, l, r);
        semi.contexts.set(r, id);
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
    const l = this.semiKeys[0].get(lf.join(','));
    const r = this.semiKeys[1].get(rf.join(','));
    return l !== undefined && r !== undefined && this.leftSemis[l].contexts.has(r);
  }

  /** Marks which facts of each semi-context are present in `facts`. */
  cross(side: 0 | 1, facts: readonly number[]): void {
    for (const s of this.crossed[side]) {
      s.facts = [];
      s.crossed = 0;
    }
    // Only semi-contexts holding one of the facts can be crossed; visiting them in id order keeps
    // the original's order (it scanned every semi-context, which made a step O(memory)).
    const touched: Array<LeftSemi | RightSemi> = [];
    for (const f of facts) {
      const semis = this.factsDics[side].get(f);
      if (semis) {
        for (const s of semis) {
          if (s.facts.length === 0) touched.push(s);
          s.facts.push(f);
        }
      }
    }
    touched.sort((a, b) => a.id - b.id);
    for (const s of touched) s.crossed = s.facts.length;
    if (side === 0) this.crossed[0] = touched as LeftSemi[];
    else this.crossed[1] = touched as RightSemi[];
  }

  updateContextsAndGetActive(newContextFlag: boolean): { active: number[]; selected: number; potential: FactPair[] } {
    const active: number[] = [];
    const potential: FactPair[] = [];
    let selected = 0;
    const ctx = this.contexts;
    for (const left of this.crossed[0]) {
      for (const [rightId, contextId] of left.contexts) {
        if (this.newContextID === contextId) continue;
        const right = this.rightSemis[rightId];
        if (left.len === left.crossed) {
          selected++;
          if (right.crossed > 0) {
            if (right.len === right.crossed) {
              ctx.count[contextId]++;
              active.push(contextId);
            } else if (ctx.zero[contextId] && newContextFlag && left.crossed <= this.maxLeftLen) {
              potential.push([left.facts.slice(), right.facts.slice()]);
            }
          }
        } else if (ctx.zero[contextId] && newContextFlag && right.crossed > 0 && left.crossed <= this.maxLeftLen) {
          potential.push([left.facts.slice(), right.facts.slice()]);
        }
      }
    }
    this.newContextID = 0;
    return { active, selected, potential };
  }

  snapshot(): Pick<CadState, 'left' | 'right' | 'contexts'> {
    // A left semi-context's own fact list is recovered from the index, so only ids are kept.
    const leftFacts = new Map<LeftSemi, number[]>();
    for (const [f, semis] of this.factsDics[0]) for (const s of semis) push(leftFacts, s, f);
    const rightFacts = new Map<RightSemi, number[]>();
    for (const [f, semis] of this.factsDics[1]) for (const s of semis) push(rightFacts, s, f);
    const c = this.contexts;
    return {
      left: this.leftSemis.map((s) => [(leftFacts.get(s) ?? []).sort((a, b) => a - b), [...s.contexts]]),
      right: this.rightSemis.map((s) => (rightFacts.get(s) ?? []).sort((a, b) => a - b)),
      contexts: Array.from({ length: c.length }, (_, i): Context => [c.count[i], c.zero[i], c.left[i], c.right[i]]),
    };
  }

  restore(s: Pick<CadState, 'left' | 'right' | 'contexts'>): void {
    for (const [facts, ctxs] of s.left) {
      const id = this.leftSemi(facts);
      for (const [r, c] of ctxs) this.leftSemis[id].contexts.set(r, c);
    }
    for (const facts of s.right) this.rightSemi(facts);
    for (const [count, zero, l, r] of s.contexts) this.contexts.push(zero, l, r, count);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
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
