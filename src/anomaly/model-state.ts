/**
 * What a saved container model (a file of anomaly-models/) must be before it is restored: the file is
 * untrusted input, and a model that is only roughly the right shape fails later, inside the
 * learning step of the container's next stats document (a TypeError from a stream handler). So
 * every part is checked here, the references between CAD's tables included (ids are positions),
 * and a model that fails is not restored: its container warms up again.
 *
 * zod checks the structure; the large tables (thousands of contexts per signal) are checked by
 * plain loops inside it, so a restore stays in milliseconds per container.
 */
import { z } from 'zod';
import { zodReason } from '../state/state-file';
import { NEURON_BASE } from './cad-tables';

/** Far above what max_contexts allows: a bound on what one restore can allocate. */
const MAX_ROWS = 1_000_000;
const MAX_FACTS = 4096;
const count = z.number().int().min(0);
/** JSON turns ±Infinity (nothing seen yet) into null. */
const bound = z.number().nullable();

const levelState = z.object({ mean: z.number(), variance: z.number().min(0), n: count });

function isFacts(v: unknown): v is number[] {
  if (!Array.isArray(v) || v.length > MAX_FACTS) return false;
  // Facts from 2^31 on name contexts (cad-tables.ts indexes them by id): no more than the rows.
  for (const f of v) if (!Number.isInteger(f) || f < 0 || f >= NEURON_BASE + MAX_ROWS) return false;
  return true;
}

const cadState = z
  .object({ left: z.array(z.unknown()).max(MAX_ROWS), right: z.array(z.unknown()).max(MAX_ROWS), contexts: z.array(z.unknown()).max(MAX_ROWS), leftFactsGroup: z.unknown() })
  .superRefine((c, ctx) => {
    const bad = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    const nL = c.left.length;
    const nR = c.right.length;
    const nC = c.contexts.length;
    if (!isFacts(c.leftFactsGroup)) return bad(['leftFactsGroup'], 'not a list of facts');
    // restore() finds a semi-context by its facts: two with the same facts would shift every id after them
    const seen = new Set<string>();
    for (let i = 0; i < nR; i++) {
      const facts = c.right[i];
      if (!isFacts(facts)) return bad(['right', i], 'not a list of facts');
      const key = facts.join(',');
      if (seen.has(key)) return bad(['right', i], 'a second right semi-context with the same facts');
      seen.add(key);
    }
    seen.clear();
    for (let i = 0; i < nL; i++) {
      const e = c.left[i];
      if (!Array.isArray(e) || e.length !== 2 || !isFacts(e[0]) || !Array.isArray(e[1])) return bad(['left', i], 'not [facts, [right id, context id][]]');
      const key = (e[0] as number[]).join(',');
      if (seen.has(key)) return bad(['left', i], 'a second left semi-context with the same facts');
      seen.add(key);
      for (const p of e[1] as unknown[]) {
        if (!Array.isArray(p) || p.length !== 2 || !isId(p[0], nR) || !isId(p[1], nC)) return bad(['left', i], 'a context reference outside the tables');
      }
    }
    for (let i = 0; i < nC; i++) {
      const x = c.contexts[i];
      const ok = Array.isArray(x) && x.length === 4 && Number.isFinite(x[0]) && x[0] >= 0 && (x[1] === 0 || x[1] === 1) && isId(x[2], nL) && isId(x[3], nR);
      if (!ok) return bad(['contexts', i], 'not [count, 0|1, left id, right id] inside the tables');
    }
  });

function isId(v: unknown, n: number): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;
}

const univariateState = z.object({ min: bound, max: bound, seen: count, cad: cadState, history: z.array(z.number()).max(MAX_ROWS), level: levelState });

const likelihoodState = z.object({
  seen: count,
  recent: z.array(z.number()).max(MAX_ROWS),
  averages: z.array(z.number()).max(MAX_ROWS),
  mean: z.number(),
  sd: z.number().positive(),
  fitted: z.boolean(),
  prevRed: z.boolean(),
  ewMean: z.number().optional(),
  ewVar: z.number().min(0).optional(),
  ewN: count.optional(),
});

const coreState = z.object({
  parts: z.array(z.object({ cad: univariateState, likelihood: likelihoodState })).max(16),
  spatial: z.object({ min: bound, max: bound }),
});

export const modelStateSchema = z.object({
  v: z.literal(2),
  samples: count,
  signals: z.record(z.string(), z.object({ core: coreState, level: levelState })),
});

/** States already checked (the store checks before the model is built, the model again). */
const checked = new WeakSet<object>();

/** Why `state` cannot be restored, or undefined when it can. */
export function modelStateProblem(state: unknown): string | undefined {
  if (typeof state === 'object' && state !== null && checked.has(state)) return undefined;
  const r = modelStateSchema.safeParse(state);
  if (!r.success) return zodReason(r.error);
  checked.add(state as object);
  return undefined;
}
