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
 */

interface LeftSemi { id: number; facts: number[]; len: number; crossed: number; contexts: Map<number, number> }
interface RightSemi { id: number; facts: number[]; len: number; crossed: number }
/** count, zero-level flag, left semi id, right semi id */
type Context = [number, number, number, number];
type FactPair = [number[], number[]];

const NEURON_BASE = 2 ** 31;

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
  readonly contexts: Context[] = [];
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
      let id = semi.contexts.get(r);
      if (id === undefined) {
        id = this.contexts.length;
        semi.contexts.set(r, id);
        added++;
        this.contexts.push([0, zeroLevel ? 1 : 0, l, r]);
        if (zeroLevel) {
          this.newContextID = id;
          return true;
        }
      } else if (zeroLevel) {
        this.contexts[id][1] = 1;
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
    for (const left of this.crossed[0]) {
      for (const [rightId, contextId] of left.contexts) {
        if (this.newContextID === contextId) continue;
        const ctx = this.contexts[contextId];
        const right = this.rightSemis[rightId];
        if (left.len === left.crossed) {
          selected++;
          if (right.crossed > 0) {
            if (right.len === right.crossed) {
              ctx[0]++;
              active.push(contextId);
            } else if (ctx[1] && newContextFlag && left.crossed <= this.maxLeftLen) {
              potential.push([left.facts.slice(), right.facts.slice()]);
            }
          }
        } else if (ctx[1] && newContextFlag && right.crossed > 0 && left.crossed <= this.maxLeftLen) {
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
    return {
      left: this.leftSemis.map((s) => [(leftFacts.get(s) ?? []).sort((a, b) => a - b), [...s.contexts]]),
      right: this.rightSemis.map((s) => (rightFacts.get(s) ?? []).sort((a, b) => a - b)),
      contexts: this.contexts.map((c) => [...c] as Context),
    };
  }

  restore(s: Pick<CadState, 'left' | 'right' | 'contexts'>): void {
    for (const [facts, ctxs] of s.left) {
      const id = this.leftSemi(facts);
      for (const [r, c] of ctxs) this.leftSemis[id].contexts.set(r, c);
    }
    for (const facts of s.right) this.rightSemi(facts);
    for (const c of s.contexts) this.contexts.push([...c] as Context);
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

    const ctxs = this.op.contexts;
    active.sort((a, b) => ctxs[a][0] - ctxs[b][0] || ctxs[a][2] - ctxs[b][2] || ctxs[a][3] - ctxs[b][3]);
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
