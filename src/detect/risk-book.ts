/**
 * The arithmetic of per-container risk, without clocks, timers or I/O (src/detect/risk.ts runs it).
 *
 * A container's score is the sum of its contributors' points, each decaying exponentially from
 * its last refresh (half-life). A contributor is one rule (or the anomaly score): a repeat of the
 * same rule refreshes its points instead of adding them, so a noisy building block (apt-get
 * running twenty times) stays one building block, and the score measures how many different
 * suspicious things happened, weighted by their risk_score. Crossing `threshold` while armed is
 * one crossing; the score must fall under `rearm` before the next one.
 *
 * Memory is bounded twice: at most `maxContainers` containers (the least recently touched one
 * leaves) and `maxContributors` per container (the one worth least now leaves); both counted.
 */

export interface Contributor {
  /** Rule id, or `anomaly`. */
  id: string;
  name: string;
  cls: 'signal' | 'alert' | 'anomaly';
  severity: string;
  techniques: string[];
  tactics: string[];
  /** Points at `at`; decays from there. */
  value: number;
  at: number;
  first: number;
  last: number;
  count: number;
}

export interface ContainerRisk {
  id: string;
  armed: boolean;
  contributors: Map<string, Contributor>;
}

export interface BookLimits {
  threshold: number;
  rearm: number;
  halfLifeMs: number;
  maxContainers: number;
  maxContributors: number;
}

/** A contributor worth less than this is forgotten (it can no longer matter to any threshold ≥ 1). */
export const FORGET_BELOW = 0.5;

export type Addition = Omit<Contributor, 'value' | 'at' | 'first' | 'last' | 'count'> & { points: number };

export interface Crossing {
  container: ContainerRisk;
  score: number;
}

export class RiskBook {
  /** Insertion order is recency: a touched container is moved to the end. */
  private readonly containers = new Map<string, ContainerRisk>();
  evictedContainers = 0;
  evictedContributors = 0;

  constructor(private readonly limits: BookLimits) {}

  get size(): number {
    return this.containers.size;
  }

  /** A contributor's points at `now`. */
  valueAt(c: Contributor, now: number): number {
    return c.value * Math.pow(2, -Math.max(0, now - c.at) / this.limits.halfLifeMs);
  }

  score(id: string, now: number): number {
    const c = this.containers.get(id);
    return c ? this.sum(c, now) : 0;
  }

  /**
   * Adds a finding; returns the crossing when this finding took an armed container's score to the
   * threshold. A contributor seen again keeps the larger of its decayed and its new points (a
   * repeated rule is refreshed; a lower anomaly score does not erase a recent high one).
   */
  add(id: string, add: Addition, now: number): Crossing | undefined {
    const entry = this.touch(id);
    // One pass over the contributors (the hot path: every finding): decay, forget, sum.
    let score = 0;
    let decayed = 0;
    for (const [k, v] of entry.contributors) {
      const x = this.valueAt(v, now);
      if (x < FORGET_BELOW) entry.contributors.delete(k);
      else {
        score += x;
        if (k === add.id) decayed = x;
      }
    }
    if (!entry.armed && score < this.limits.rearm) entry.armed = true;
    const have = entry.contributors.get(add.id);
    if (have) {
      have.value = Math.max(decayed, add.points);
      have.at = now;
      have.last = now;
      have.count++;
      score += have.value - decayed;
    } else {
      if (entry.contributors.size >= this.limits.maxContributors) score -= this.dropSmallest(entry, now);
      const { points, ...rest } = add;
      entry.contributors.set(add.id, { ...rest, value: points, at: now, first: now, last: now, count: 1 });
      score += points;
    }
    if (entry.armed && score >= this.limits.threshold) {
      entry.armed = false;
      return { container: entry, score };
    }
    return undefined;
  }

  forget(id: string): void {
    this.containers.delete(id);
  }

  get(id: string): ContainerRisk | undefined {
    return this.containers.get(id);
  }

  /** Every container, least recent first (for saving). */
  entries(): ContainerRisk[] {
    return [...this.containers.values()];
  }

  /** Puts back a saved container (restart); caps apply as to any other. */
  restore(c: ContainerRisk, now: number): void {
    const entry = this.touch(c.id);
    entry.armed = c.armed;
    for (const k of c.contributors.values()) {
      if (entry.contributors.size >= this.limits.maxContributors) void this.dropSmallest(entry, now);
      entry.contributors.set(k.id, k);
    }
    this.prune(entry, now);
    if (entry.contributors.size === 0 && entry.armed) this.containers.delete(c.id);
  }

  /** Contributors worth most now, with their current points. */
  top(c: ContainerRisk, now: number, n = Infinity): Array<Contributor & { points: number }> {
    return [...c.contributors.values()]
      .map((k) => ({ ...k, points: this.valueAt(k, now) }))
      .sort((a, b) => b.points - a.points || a.id.localeCompare(b.id))
      .slice(0, n);
  }

  private sum(c: ContainerRisk, now: number): number {
    let s = 0;
    for (const k of c.contributors.values()) s += this.valueAt(k, now);
    return s;
  }

  private touch(id: string): ContainerRisk {
    let entry = this.containers.get(id);
    if (entry) this.containers.delete(id);
    else {
      entry = { id, armed: true, contributors: new Map() };
      if (this.containers.size >= this.limits.maxContainers) {
        const oldest = this.containers.keys().next().value as string;
        this.containers.delete(oldest);
        this.evictedContainers++;
      }
    }
    this.containers.set(id, entry);
    return entry;
  }

  private prune(c: ContainerRisk, now: number): void {
    for (const [k, v] of c.contributors) if (this.valueAt(v, now) < FORGET_BELOW) c.contributors.delete(k);
  }

  /** Drops the contributor worth least now; returns its points. */
  private dropSmallest(c: ContainerRisk, now: number): number {
    let min: string | undefined;
    let minValue = Infinity;
    for (const [k, v] of c.contributors) {
      const x = this.valueAt(v, now);
      if (x < minValue) [min, minValue] = [k, x];
    }
    if (min === undefined) return 0;
    c.contributors.delete(min);
    this.evictedContributors++;
    return minValue;
  }
}
