/**
 * One container's model: the per-signal core (core.ts, the one NAB scores) on every signal, and
 * beside it a slow level baseline (level.ts) that only says what the signal's usual value is — for
 * the explanation and to tell a rise from a drop; it does not score.
 * The container's score is its most anomalous signal's, ×100; every signal's score is reported as
 * its contribution, and the top one names the cause. The largest rather than a sum: twelve
 * mostly-quiet signals would otherwise add their noise into a score nobody can explain.
 *
 * Only a rise counts toward the container's score by default: an attack adds activity (CPU, process
 * starts, connections, log lines), and a signal dropping below its baseline — a loop that skipped a
 * beat, a `top` poll that missed a one-second process — is reported with its score and `below: true`
 * but raises nothing. `model.drops: true` counts drops too, for operators who want to hear that a
 * container went quiet.
 */
import { z } from 'zod';
import { SIGNAL_FLOOR, SIGNAL_LABEL, SIGNALS, type Signal, type Vector } from './signals';
import { coreSchema, SignalCore, type CoreConfig, type CoreState } from './core';
import { LevelBaseline, type LevelState } from './level';
import { modelStateProblem } from './model-state';

export const modelConfig = z
  .object({
    /** intervals (stats documents) before a container's scores are trusted */
    warmup: z.number().int().min(2).default(60),
    /** memory bound per signal and quantiser (two per signal): CAD contexts past this are not learned */
    max_contexts: z.number().int().min(100).default(3000),
    /** intervals the usual value (the explanation's baseline) averages over */
    baseline_span: z.number().int().min(2).default(360),
    /** count a signal falling below its baseline toward the container's score, not only a rise */
    drops: z.boolean().default(false),
  })
  .strict()
  .prefault({});
export type ModelConfig = z.output<typeof modelConfig>;

/** A v1 state (one gated CAD per signal, before the likelihood core) is not restored: that container warms up again. */
export interface ModelState {
  v: 2;
  samples: number;
  signals: Partial<Record<Signal, { core: CoreState; level: LevelState }>>;
}

export interface Scored {
  /** 0–100 */
  score: number;
  warm: boolean;
  top: Signal;
  explanation: string;
  /** per signal: score 0–100, value, baseline mean */
    /** per signal: score 0–100, value, usual value, CAD's raw score, below the usual, beyond every value seen */
  signals: Partial<Record<Signal, { score: number; value: number; baseline: number; cad: number; below: boolean; extreme: boolean }>>;
}

interface SignalModel {
  core: SignalCore;
  level: LevelBaseline;
}

export class ContainerModel {
  private readonly detectors = new Map<Signal, SignalModel>();
  private samples = 0;

  constructor(private readonly cfg: ModelConfig, state?: ModelState) {
    if (ContainerModel.restorable(state)) {
      this.samples = state.samples;
      for (const [s, st] of Object.entries(state.signals) as Array<[Signal, { core: CoreState; level: LevelState }]>) {
        if (SIGNALS.includes(s)) this.detectors.set(s, this.signalModel(s, st));
      }
    }
  }

  /**
   * Whether a saved state can be restored: this version's, and whole (model-state.ts checks every
   * part of it). Anything else — an older version, a damaged file — is not restored: the
   * container warms up again.
   */
  static restorable(state: unknown): state is ModelState {
    return state !== undefined && modelStateProblem(state) === undefined;
  }

  get warm(): boolean {
    return this.samples >= this.cfg.warmup;
  }

  get sampleCount(): number {
    return this.samples;
  }

  /**
   * Noise within one floor-sized step stays in one quantiser bin (3 bits: 7 steps), and a new
   * extreme must pass the range seen by at least one floor and 10 % of itself (two process starts
   * in a 1.9-s interval read 62 a minute against a steady 60: jitter, not a new extreme).
   */
  private signalModel(s: Signal, st?: { core: CoreState; level: LevelState }): SignalModel {
    const c: CoreConfig = coreSchema.parse({ warmup: this.cfg.warmup, max_contexts: this.cfg.max_contexts, min_span: 7 * SIGNAL_FLOOR[s], floor: SIGNAL_FLOOR[s], relative: 0.1 });
    return { core: new SignalCore(c, st?.core), level: new LevelBaseline(this.cfg.baseline_span, 3, 3, st?.level) };
  }

  update(v: Vector): Scored {
    this.samples++;
    const out: Scored['signals'] = {};
    let top: Signal = 'cpu';
    let best = -1;
    for (const s of SIGNALS) {
      const x = v[s];
      if (x === undefined || !Number.isFinite(x)) continue;
      let d = this.detectors.get(s);
      if (!d) this.detectors.set(s, (d = this.signalModel(s)));
      const baseline = d.level.state.mean;
      const r = d.core.update(x);
      d.level.update(x, SIGNAL_FLOOR[s]);
      const score = Math.round(r.score * 1000) / 10;
      const below = x < baseline;
      out[s] = { score, value: round(x), baseline: round(baseline), cad: round(r.cad), below, extreme: r.spatial === 1 };
      if (below && !this.cfg.drops) continue;
      if (score > best) {
        best = score;
        top = s;
      }
    }
    const t = best >= 0 ? out[top] : undefined;
    const dir = t?.below ? 'below' : 'above';
    const extreme = t?.extreme ? ', beyond every value seen' : '';
    const explanation = t ? `${SIGNAL_LABEL[top]} at ${t.value}, ${dir} its usual ${t.baseline} (${top} scores ${t.score}${extreme})` : 'no signal above its baseline';
    return { score: Math.max(0, best), warm: this.warm, top, explanation, signals: out };
  }

  snapshot(): ModelState {
    const signals: ModelState['signals'] = {};
    for (const [s, d] of this.detectors) signals[s] = { core: d.core.snapshot(), level: d.level.state };
    return { v: 2, samples: this.samples, signals };
  }

  /** Approximate retained size, for the cost bench and the memory bound's check. */
  get contexts(): number {
    let n = 0;
    for (const d of this.detectors.values()) n += d.core.contexts;
    return n;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
