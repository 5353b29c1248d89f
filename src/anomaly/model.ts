/**
 * One container's model: a univariate core (CAD + level baseline, see univariate.ts) per signal.
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
import { univariateSchema, UnivariateDetector, type UnivariateConfig, type UnivariateState } from './univariate';

export const modelConfig = z
  .object({
    /** intervals (stats documents) before a container's scores are trusted */
    warmup: z.number().int().min(1).default(60),
    /** memory bound per signal: CAD contexts past this are not learned */
    max_contexts: z.number().int().min(100).default(1000),
    /** intervals the level baseline averages over */
    baseline_span: z.number().int().min(2).default(360),
    /** count a signal falling below its baseline toward the container's score, not only a rise */
    drops: z.boolean().default(false),
  })
  .strict()
  .prefault({});
export type ModelConfig = z.output<typeof modelConfig>;

export interface ModelState {
  v: 1;
  samples: number;
  signals: Partial<Record<Signal, UnivariateState>>;
}

export interface Scored {
  /** 0–100 */
  score: number;
  warm: boolean;
  top: Signal;
  explanation: string;
  /** per signal: score 0–100, value, baseline mean */
  signals: Partial<Record<Signal, { score: number; value: number; baseline: number; cad: number; level: number; below: boolean }>>;
}

export class ContainerModel {
  private readonly detectors = new Map<Signal, UnivariateDetector>();
  private readonly core: UnivariateConfig;
  private samples = 0;

  constructor(private readonly cfg: ModelConfig, state?: ModelState) {
    this.core = univariateSchema.parse({
      warmup: cfg.warmup,
      range: 'expanding',
      combine: 'gated',
      max_contexts: cfg.max_contexts,
      level_span: cfg.baseline_span,
    });
    if (state?.v === 1) {
      this.samples = state.samples;
      for (const [s, st] of Object.entries(state.signals) as Array<[Signal, UnivariateState]>) {
        if (SIGNALS.includes(s)) this.detectors.set(s, new UnivariateDetector(this.signalConfig(s), undefined, revive(st)));
      }
    }
  }

  get warm(): boolean {
    return this.samples >= this.cfg.warmup;
  }

  get sampleCount(): number {
    return this.samples;
  }

  /** Noise within one floor-sized step stays in one quantiser bin (3 bits: 7 steps). */
  private signalConfig(s: Signal): UnivariateConfig {
    return { ...this.core, min_span: 7 * SIGNAL_FLOOR[s] };
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
      if (!d) this.detectors.set(s, (d = new UnivariateDetector(this.signalConfig(s))));
      const baseline = d.baselineMean;
      const r = d.update(x, SIGNAL_FLOOR[s]);
      const score = Math.round(r.raw * 1000) / 10;
      const below = x < baseline;
      out[s] = { score, value: round(x), baseline: round(baseline), cad: round(r.cad), level: round(r.level), below };
      if (below && !this.cfg.drops) continue;
      if (score > best) {
        best = score;
        top = s;
      }
    }
    const t = best >= 0 ? out[top] : undefined;
    const dir = t?.below ? 'below' : 'above';
    const explanation = t ? `${SIGNAL_LABEL[top]} at ${t.value}, ${dir} its usual ${t.baseline} (${top} scores ${t.score})` : 'no signal above its baseline';
    return { score: Math.max(0, best), warm: this.warm, top, explanation, signals: out };
  }

  snapshot(): ModelState {
    const signals: ModelState['signals'] = {};
    for (const [s, d] of this.detectors) signals[s] = d.snapshot();
    return { v: 1, samples: this.samples, signals };
  }

  /** Approximate retained size, for the cost bench and the memory bound's check. */
  get contexts(): number {
    let n = 0;
    for (const d of this.detectors.values()) n += d.contexts;
    return n;
  }
}

/** JSON turns ±Infinity (an empty range) into null. */
function revive(st: UnivariateState): UnivariateState {
  return { ...st, min: st.min ?? Infinity, max: st.max ?? -Infinity };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
