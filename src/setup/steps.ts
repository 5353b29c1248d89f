import { indexTemplatesStep } from './index-templates';
import { pipelinesStep } from './pipelines';
import { lifecycleStep } from './lifecycle';
import { dashboardsStep } from './kibana';
import { watchersStep } from './watchers';
import type { SetupContext, SetupStep, StepResult } from './step';

/** Every setup step by name, in the order they run. */
export const SETUP_STEPS: SetupStep[] = [indexTemplatesStep, pipelinesStep, lifecycleStep, dashboardsStep, watchersStep];

export async function runSetup(ctx: SetupContext, names: string[]): Promise<StepResult[]> {
  const unknown = names.filter((n) => !SETUP_STEPS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown setup step ${unknown.join(', ')} (known: ${SETUP_STEPS.map((s) => s.name).join(', ')})`);
  const results: StepResult[] = [];
  for (const step of SETUP_STEPS.filter((s) => names.length === 0 || names.includes(s.name))) {
    try {
      results.push(...(await step.run(ctx)));
    } catch (err) {
      results.push({ step: step.name, target: step.name, status: 'failed', message: (err as Error).message });
    }
  }
  for (const r of results) {
    ctx.telemetry.event(`setup.${r.status}`, r.status === 'failed' ? 'error' : 'info', `${r.target}: ${r.status} — ${r.message}`, { step: r.step });
  }
  return results;
}
