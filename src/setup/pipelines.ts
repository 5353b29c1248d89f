import type { Client } from '@elastic/elasticsearch';
import { STREAMS } from './index-templates';
import { hashOf, putIfChanged, reasonOf, skipped } from './hashed';
import { PIPELINES, pipelineFor } from './pipeline-defs';
import type { SetupContext, SetupStep, StepResult } from './step';

const STEP = 'pipelines';

/** Processors the pipelines use; a cluster missing any of them gets none of the pipelines. */
export function processorsUsed(): string[] {
  const names = new Set<string>();
  const walk = (list: unknown[] | undefined) => {
    for (const p of list ?? []) {
      for (const [name, body] of Object.entries(p as Record<string, { on_failure?: unknown[] }>)) {
        names.add(name);
        walk(body.on_failure);
      }
    }
  };
  for (const p of PIPELINES) { walk(p.processors); walk(p.on_failure); }
  return [...names].sort();
}

/** The node's ingest processors; an empty list when the node has no ingest module at all. */
async function availableProcessors(client: Client): Promise<string[]> {
  const res = await client.nodes.info({ node_id: '_local', metric: ['ingest'], filter_path: ['nodes.*.ingest.processors.type'] });
  const node = Object.values(res.nodes ?? {})[0] as unknown as { ingest?: { processors?: Array<{ type: string }> } } | undefined;
  return (node?.ingest?.processors ?? []).map((p) => p.type);
}

function pipelineComponent(type: string, dataset: string) {
  return { name: `${type}-${dataset}@pipeline`, template: { settings: { 'index.default_pipeline': pipelineFor(dataset) } } };
}

/**
 * Ingest pipelines, then one small component template per stream naming its default pipeline
 * (the index templates list it as optional). A cluster without the processors gets neither, so its
 * documents are indexed as before instead of being refused for a missing pipeline.
 */
export const pipelinesStep: SetupStep = {
  name: STEP,
  description: 'ingest pipelines (event.ingested; JSON and access-log parsing) and their attachment to the templates',

  render() {
    return { pipelines: Object.fromEntries(PIPELINES.map((p) => [p.id, p])), component_templates: Object.fromEntries(STREAMS.map(([t, d]) => { const c = pipelineComponent(t, d); return [c.name, { template: c.template }]; })) };
  },

  async run(ctx: SetupContext): Promise<StepResult[]> {
    const have = await availableProcessors(ctx.client);
    const missing = processorsUsed().filter((p) => !have.includes(p));
    if (missing.length) {
      const why = have.length ? `lacks the ingest processors ${missing.join(', ')}` : 'has no ingest processors (module ingest-common absent)';
      return [skipped(STEP, 'ingest pipelines', `this cluster ${why}; documents are indexed without pipelines`)];
    }
    const results: StepResult[] = [];
    for (const p of PIPELINES) {
      const hash = hashOf(p);
      results.push(await putIfChanged(STEP, `ingest pipeline ${p.id}`, hash,
        async () => {
          const got = await ctx.client.ingest.getPipeline({ id: p.id }, { ignore: [404] });
          const cur = (got as Record<string, { _meta?: { dockward_hash?: string } }>)[p.id];
          return cur ? (cur._meta?.dockward_hash ?? '') : null;
        },
        () => ctx.client.ingest.putPipeline({ ...p, _meta: { ...p._meta, dockward_hash: hash } }).catch((err) => { throw new Error(`ingest pipeline ${p.id} was refused: ${reasonOf(err)}`); })));
    }
    for (const [type, dataset] of STREAMS) {
      const c = pipelineComponent(type, dataset);
      const hash = hashOf(c);
      results.push(await putIfChanged(STEP, `component template ${c.name}`, hash,
        async () => {
          const got = await ctx.client.cluster.getComponentTemplate({ name: c.name }, { ignore: [404] });
          const cur = got.component_templates?.[0];
          return cur ? String(cur.component_template._meta?.dockward_hash ?? '') : null;
        },
        () => ctx.client.cluster.putComponentTemplate({ name: c.name, template: c.template, _meta: { managed_by: 'dockward', dockward_hash: hash } }),
        `default pipeline ${pipelineFor(dataset)} (from the next rollover of existing streams)`));
    }
    return results;
  },
};
