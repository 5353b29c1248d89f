import type { Client } from '@elastic/elasticsearch';
import { RETENTION_CLASSES, STREAMS } from './streams';
import { hashOf, putIfChanged, reasonOf, skipped } from './hashed';
import { dataLifecycle, ilmPolicy, lifecycleComponent, retentionClass, type RetentionClass } from './lifecycle-defs';
import { defaultAssetOptions, type RetentionConfig } from './setup-config';
import type { SetupContext, SetupStep, StepResult } from './step';

const STEP = 'lifecycle';
const CLASSES: readonly RetentionClass[] = RETENTION_CLASSES;

/** null when the API answers; otherwise why it cannot be used here. */
async function probe(client: Client, path: string): Promise<string | null> {
  try {
    await client.transport.request({ method: 'GET', path });
    return null;
  } catch (err) {
    return reasonOf(err);
  }
}

function render(cfg: RetentionConfig) {
  return {
    mode: cfg.mode,
    ilm_policies: cfg.mode === 'ilm' ? Object.fromEntries(CLASSES.map((c) => { const p = ilmPolicy(c, cfg); return [p.name, p.policy]; })) : {},
    component_templates: Object.fromEntries(STREAMS.map(([t, d]) => { const c = lifecycleComponent(t, d, cfg); return [c.name, { template: c.template }]; })),
  };
}

/**
 * Retention: ILM policies (rollover, then delete after the configured period) or data-stream
 * lifecycle, wired into every stream through its optional `@lifecycle` component template, and
 * applied to the streams that already exist. Skips when the cluster has neither mechanism.
 */
export const lifecycleStep: SetupStep = {
  name: STEP,
  description: 'retention per stream: ILM policies or data stream lifecycle (setup.retention)',

  render() {
    return render(defaultAssetOptions().retention);
  },

  async run(ctx: SetupContext): Promise<StepResult[]> {
    const cfg = (ctx.options ?? defaultAssetOptions()).retention;
    const why = cfg.mode === 'ilm' ? await probe(ctx.client, '/_ilm/status') : await probe(ctx.client, '/_lifecycle/stats');
    if (why) {
      const what = cfg.mode === 'ilm' ? 'index lifecycle management (ILM)' : 'data stream lifecycle';
      const other = cfg.mode === 'ilm' ? 'dsl' : 'ilm';
      return [skipped(STEP, `retention (${cfg.mode})`, `this cluster has no ${what} (${why}); try setup.retention.mode=${other}, or keep data by hand`)];
    }
    const results: StepResult[] = [];
    if (cfg.mode === 'ilm') {
      for (const c of CLASSES) {
        const p = ilmPolicy(c, cfg);
        const hash = hashOf(p);
        results.push(await putIfChanged(STEP, `ILM policy ${p.name}`, hash,
          async () => {
            const got = await ctx.client.ilm.getLifecycle({ name: p.name }, { ignore: [404] });
            const cur = (got as Record<string, { policy?: { _meta?: { dockward_hash?: string } } }>)[p.name];
            return cur ? String(cur.policy?._meta?.dockward_hash ?? '') : null;
          },
          () => ctx.client.ilm.putLifecycle({ ...p, policy: { ...p.policy!, _meta: { ...p.policy!._meta, dockward_hash: hash } } }),
          `delete after ${cfg[c]}`));
      }
    }
    for (const [type, dataset] of STREAMS) {
      const comp = lifecycleComponent(type, dataset, cfg);
      const hash = hashOf(comp);
      const r = await putIfChanged(STEP, `component template ${comp.name}`, hash,
        async () => {
          const got = await ctx.client.cluster.getComponentTemplate({ name: comp.name }, { ignore: [404] });
          const cur = got.component_templates?.[0];
          return cur ? String(cur.component_template._meta?.dockward_hash ?? '') : null;
        },
        () => ctx.client.cluster.putComponentTemplate({ name: comp.name, template: comp.template, _meta: { managed_by: 'dockward', dockward_hash: hash } }),
        `${cfg.mode} retention ${cfg[retentionClass(dataset)]}`);
      // Existing streams: new templates only reach new backing indices, so apply it to them too.
      if (r.status !== 'unchanged') await applyToExisting(ctx.client, `${type}-${dataset}-*`, retentionClass(dataset), cfg);
      results.push(r);
    }
    return results;
  },
};

async function applyToExisting(client: Client, pattern: string, c: RetentionClass, cfg: RetentionConfig): Promise<void> {
  if (cfg.mode === 'dsl') {
    await client.indices.putDataLifecycle(dataLifecycle(pattern, c, cfg), { ignore: [404] });
  } else {
    await client.indices.putSettings({ index: pattern, allow_no_indices: true, expand_wildcards: ['open', 'hidden'], settings: { 'index.lifecycle.name': ilmPolicy(c, cfg).name } }, { ignore: [404] });
  }
}
