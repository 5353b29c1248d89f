import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ROOT } from '../engines';

/**
 * The evaluation suites' data files (test/evaluation/attacks.yml, benign.yml): written from public
 * attack libraries and the official images' entrypoints, never from dockward's own rules, so a rule
 * proves itself on commands someone else wrote.
 */
export const TACTICS = [
  'execution', 'persistence', 'privilege-escalation', 'defense-evasion', 'credential-access',
  'discovery', 'collection', 'exfiltration', 'command-and-control', 'impact',
] as const;
export type Tactic = (typeof TACTICS)[number];

const technique = z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id (T1234 or T1234.001)');
const image = z.enum(['busybox', 'lab']);

export const AttackScenario = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  tactic: z.enum(TACTICS),
  techniques: z.array(technique).min(1),
  image,
  /** `run`: the container's own command (`sh -c script`); `exec`: an idle container, the script through `docker exec`. */
  via: z.enum(['run', 'exec']).default('run'),
  script: z.string().min(1),
  reference: z.url(),
});
export type AttackScenario = z.infer<typeof AttackScenario>;

export const BenignScenario = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** The official image whose entrypoint and routine this emulates. */
  emulates: z.string().min(1),
  image,
  /** Baked into the scenario's image, as the official image carries it (path → content). */
  files: z.record(z.string().regex(/^\//), z.string()).default({}),
  /** Image build steps (users the official image's Dockerfile creates, …), run before dockward starts. */
  build: z.array(z.string()).default([]),
  env: z.array(z.string()).default([]),
  /** The container's command: the entrypoint and its service. */
  cmd: z.array(z.string()).min(1),
  /** A line the container prints when its start-up is done, as readiness probes wait for. */
  ready: z.string().min(1),
  healthcheck: z.string().optional(),
  /** Routine `docker exec` steps after readiness (CI jobs, admin checks), in order. */
  execs: z.array(z.strictObject({ cmd: z.array(z.string()).min(1), user: z.string().optional() })).default([]),
  reference: z.url(),
});
export type BenignScenario = z.infer<typeof BenignScenario>;

const AttackFile = z.strictObject({ scenarios: z.array(AttackScenario).min(1) });
const BenignFile = z.strictObject({ scenarios: z.array(BenignScenario).min(1) });

export const SUITE_DIR = join(ROOT, 'test', 'evaluation');

function load<T extends { id: string }>(file: string, schema: z.ZodType<{ scenarios: T[] }>): T[] {
  const parsed = schema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  const seen = new Set<string>();
  for (const s of parsed.data.scenarios) {
    if (seen.has(s.id)) throw new Error(`${file}: scenario id ${s.id} appears twice`);
    seen.add(s.id);
  }
  return parsed.data.scenarios;
}

export function loadAttacks(file = join(SUITE_DIR, 'attacks.yml')): AttackScenario[] {
  return load(file, AttackFile);
}

export function loadBenign(file = join(SUITE_DIR, 'benign.yml')): BenignScenario[] {
  return load(file, BenignFile);
}
