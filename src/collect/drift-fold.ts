/**
 * The changed paths a drift scan does not remember one by one, folded into a count per kind and
 * an order-independent digest (the sum of a 64-bit hash of each entry), so the next scan can tell
 * whether that part of the diff moved without keeping its paths. The engine's order of the diff is
 * not promised (overlay walks the tree; other drivers iterate maps), hence a sum, not a stream hash.
 *
 * The hash is cyrb53's mixing (bryc, public domain), not a cryptographic one: 500k sha1 digests
 * took 3 s, this 0.1 s. A container able to forge a collision only hides a change inside a part
 * of its diff that is already reported as a summary, and the flood itself raised a drift-bomb.
 */
export interface FoldState {
  count: number;
  /** Count per kind: change, creation, deletion. */
  kinds: [number, number, number];
  /** Entries too long to read (only counted). */
  skipped: number;
  a: number;
  b: number;
}

export class Fold implements FoldState {
  count = 0;
  kinds: [number, number, number] = [0, 0, 0];
  skipped = 0;
  a = 0;
  b = 0;

  add(path: string, kind: number): void {
    this.apply(path, kind, 1);
  }

  remove(path: string, kind: number): void {
    this.apply(path, kind, -1);
  }

  skip(n: number): void {
    this.skipped += n;
  }

  same(s: FoldState): boolean {
    return this.count === s.count && this.skipped === s.skipped && this.a === s.a && this.b === s.b;
  }

  state(): FoldState {
    return { count: this.count, kinds: [...this.kinds], skipped: this.skipped, a: this.a, b: this.b };
  }

  private apply(path: string, kind: number, sign: 1 | -1): void {
    const k = kind === 1 || kind === 2 ? kind : 0;
    this.count += sign;
    this.kinds[k] += sign;
    let h1 = 0xdeadbeef ^ k;
    let h2 = 0x41c6ce57 ^ k;
    for (let i = 0; i < path.length; i++) {
      const ch = path.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.a = (this.a + sign * (h1 >>> 0)) >>> 0;
    this.b = (this.b + sign * (h2 >>> 0)) >>> 0;
  }
}
