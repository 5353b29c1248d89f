/**
 * CAD's memory as columns of typed arrays instead of an object, an array and a Map per
 * semi-context with a string key each: a daemon holds tens of thousands of contexts per container
 * (bench/anomaly-cost.ts), and per context the objects cost about 345 bytes.
 */

/** Facts at or above this are "neurons": context ids (CAD feeds active contexts back as facts). */
export const NEURON_BASE = 2 ** 31;

function grown<T extends Uint32Array | Int32Array | Uint16Array | Uint8Array>(a: T, need: number, fill?: number): T {
  if (need <= a.length) return a;
  // by a quarter, not doubling: a table stays near its cap for the process's life
  let n = a.length;
  while (n < need) n = Math.ceil(n * 1.25) + 8;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}

/** Every context's count, zero-level flag, left and right semi-context ids, and the next context of its left semi. */
export class ContextTable {
  count = new Uint32Array(64);
  zero = new Uint8Array(64);
  left = new Int32Array(64);
  right = new Int32Array(64);
  /** the next context of the same left semi-context, in learning order; -1 ends the list */
  next = new Int32Array(64);
  length = 0;

  push(zero: number, left: number, right: number, count = 0): number {
    const id = this.length++;
    if (id === this.count.length) {
      this.count = grown(this.count, id + 1);
      this.zero = grown(this.zero, id + 1);
      this.left = grown(this.left, id + 1);
      this.right = grown(this.right, id + 1);
      this.next = grown(this.next, id + 1);
    }
    this.count[id] = count;
    this.zero[id] = zero;
    this.left[id] = left;
    this.right[id] = right;
    this.next[id] = -1;
    return id;
  }
}

/**
 * Semi-contexts of one side: each one's facts in a shared pool, found by its facts through an
 * open-addressed hash index, and reachable from each of its facts through posting lists. Facts
 * arrive sorted ascending (CAD sorts every fact set), so a semi-context's facts are kept in order.
 */
export class SemiTable {
  length = 0;
  /** how many of the last crossed facts each semi-context holds (0 for every untouched one) */
  crossed = new Uint16Array(64);
  /** first and last context of a left semi-context's list (-1: none) */
  head = new Int32Array(64);
  tail = new Int32Array(64);
  private start = new Uint32Array(64);
  private len = new Uint16Array(64);
  private pool = new Uint32Array(256);
  private used = 0;
  private slots = new Int32Array(128);
  private readonly smallHead = new Map<number, number>();
  private neuronHead = new Int32Array(64).fill(-1);
  private pSemi = new Int32Array(256);
  private pNext = new Int32Array(256);
  private postings = 0;
  private touched: number[] = [];

  size(id: number): number {
    return this.len[id];
  }

  facts(id: number): number[] {
    return Array.from(this.pool.subarray(this.start[id], this.start[id] + this.len[id]));
  }

  /** The facts of `id` among the last crossed ones, in order. */
  crossedFacts(id: number, input: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (let i = this.start[id], end = i + this.len[id]; i < end; i++) if (input.has(this.pool[i])) out.push(this.pool[i]);
    return out;
  }

  find(facts: readonly number[]): number {
    const mask = this.slots.length - 1;
    for (let s = hash(facts, 0, facts.length) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s];
      if (v === 0) return -1;
      if (this.equals(v - 1, facts)) return v - 1;
    }
  }

  /** The semi-context of `facts`, created when new. */
  add(facts: readonly number[]): number {
    const found = this.find(facts);
    if (found >= 0) return found;
    const id = this.length++;
    const cap = id + 1;
    this.crossed = grown(this.crossed, cap);
    this.head = grown(this.head, cap);
    this.tail = grown(this.tail, cap);
    this.start = grown(this.start, cap);
    this.len = grown(this.len, cap);
    this.pool = grown(this.pool, this.used + facts.length);
    this.start[id] = this.used;
    this.len[id] = facts.length;
    this.head[id] = this.tail[id] = -1;
    this.crossed[id] = 0;
    for (const f of facts) this.pool[this.used++] = f;
    for (const f of facts) this.post(f, id);
    if (this.length * 2 > this.slots.length) this.rehash();
    else this.index(id);
    return id;
  }

  /** Counts, for every semi-context holding one of `facts`, how many it holds; returns them by id. */
  cross(facts: readonly number[]): number[] {
    for (const id of this.touched) this.crossed[id] = 0;
    const touched: number[] = [];
    for (const f of facts) {
      for (let p = this.headOf(f); p >= 0; p = this.pNext[p]) {
        const s = this.pSemi[p];
        if (this.crossed[s]++ === 0) touched.push(s);
      }
    }
    touched.sort((a, b) => a - b);
    this.touched = touched;
    return touched;
  }

  private headOf(f: number): number {
    if (f >= NEURON_BASE) {
      const i = f - NEURON_BASE;
      return i < this.neuronHead.length ? this.neuronHead[i] : -1;
    }
    return this.smallHead.get(f) ?? -1;
  }

  private post(f: number, id: number): void {
    const p = this.postings++;
    this.pSemi = grown(this.pSemi, p + 1);
    this.pNext = grown(this.pNext, p + 1);
    this.pSemi[p] = id;
    this.pNext[p] = this.headOf(f);
    if (f >= NEURON_BASE) {
      this.neuronHead = grown(this.neuronHead, f - NEURON_BASE + 1, -1);
      this.neuronHead[f - NEURON_BASE] = p;
    } else {
      this.smallHead.set(f, p);
    }
  }

  private equals(id: number, facts: readonly number[]): boolean {
    if (this.len[id] !== facts.length) return false;
    const s = this.start[id];
    for (let i = 0; i < facts.length; i++) if (this.pool[s + i] !== facts[i]) return false;
    return true;
  }

  private index(id: number): void {
    const mask = this.slots.length - 1;
    let s = hash(this.pool, this.start[id], this.len[id]) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = id + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.length; id++) this.index(id);
  }
}

/** FNV-1a over `len` facts from `start`, as 32-bit words (a fact list, or a semi-context's in the pool). */
function hash(facts: ArrayLike<number>, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ facts[i], 16777619);
  return h >>> 0;
}
