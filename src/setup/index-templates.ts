import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { ClusterComponentTemplate, IndicesPutIndexTemplateRequest } from '@elastic/elasticsearch/lib/api/types';
import { SetupError, errorMessage } from '../errors';
import { VERSION } from '../version';
import { dockwardMappings, replaceType, TYPE_FALLBACKS } from './mappings';
import type { SetupContext, SetupStep, StepResult } from './step';
import { optionalComponents } from './optional-components';
import { STREAMS } from './streams';

/** Every data stream dockward writes, as [type, dataset] (from the stream catalog). */
export { STREAMS };
const SETTINGS = 'dockward@settings';
const MAPPINGS = 'dockward@mappings';
/** Above the stack's built-in logs-*-* / metrics-*-* (100), below a user's own overrides. */
const PRIORITY = 250;

const MISSING_TYPE = /mapper type \[([a-z_]+)\] declared on field|No handler for type \[([a-z_]+)\]/;

interface Templates {
  components: Record<string, { template: Record<string, unknown> }>;
  indexTemplates: Record<string, IndicesPutIndexTemplateRequest>;
}

function desired(): Templates {
  return {
    components: {
      [SETTINGS]: {
        template: {
          settings: {
            // One replica where there is a second node, none on a single node (stays green).
            'index.auto_expand_replicas': '0-1',
            'index.mapping.total_fields.limit': 2000,
            'index.refresh_interval': '5s',
          },
        },
      },
      [MAPPINGS]: { template: { mappings: dockwardMappings() } },
    },
    indexTemplates: Object.fromEntries(
      STREAMS.map(([type, dataset]) => [
        `${type}-${dataset}`,
        {
          name: `${type}-${dataset}`,
          index_patterns: [`${type}-${dataset}-*`],
          data_stream: {},
          priority: PRIORITY,
          // Pipeline and retention components exist only where the cluster supports them.
          composed_of: [SETTINGS, MAPPINGS, ...optionalComponents(type, dataset)],
          ignore_missing_component_templates: optionalComponents(type, dataset),
          _meta: { managed_by: 'dockward', description: `dockward ${dataset} documents` },
        } as IndicesPutIndexTemplateRequest,
      ]),
    ),
  };
}

function hashOf(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

/**
 * Component templates (settings, ECS mappings) and one index template per data stream. Each
 * object carries `_meta.dockward_hash` of what dockward wanted to write: equal hash, no write, so
 * a second run changes nothing. A cluster that lacks a mapper type (match_only_text, wildcard, …)
 * gets its documented stand-in, named in the result and in `_meta.fallbacks`.
 */
export const indexTemplatesStep: SetupStep = {
  name: 'index-management',
  description: 'component and index templates for every dockward data stream (ECS mappings)',

  render() {
    const t = desired();
    return { component_templates: t.components, index_templates: t.indexTemplates };
  },

  async run(ctx: SetupContext): Promise<StepResult[]> {
    const t = desired();
    const results: StepResult[] = [];
    for (const [name, body] of Object.entries(t.components)) results.push(await putComponent(ctx.client, name, body));
    for (const [name, body] of Object.entries(t.indexTemplates)) {
      const hash = hashOf({ body, VERSION });
      const existing = await ctx.client.indices.getIndexTemplate({ name }, { ignore: [404] });
      const current = existing.index_templates?.[0]?.index_template;
      if (current?._meta?.dockward_hash === hash) {
        results.push({ step: this.name, target: `index template ${name}`, status: 'unchanged', message: 'up to date' });
        continue;
      }
      await ctx.client.indices.putIndexTemplate({ ...body, _meta: { ...body._meta, version: VERSION, dockward_hash: hash } });
      results.push({ step: this.name, target: `index template ${name}`, status: current ? 'updated' : 'created', message: `pattern ${body.index_patterns}` });
    }
    return results;
  },
};

async function putComponent(client: Client, name: string, body: { template: Record<string, unknown> }): Promise<StepResult> {
  const hash = hashOf({ body, VERSION });
  const target = `component template ${name}`;
  const existing = await client.cluster.getComponentTemplate({ name }, { ignore: [404] });
  const current: ClusterComponentTemplate | undefined = existing.component_templates?.[0];
  if (current?.component_template._meta?.dockward_hash === hash) {
    const fb = current.component_template._meta?.fallbacks as string[] | undefined;
    return { step: 'index-management', target, status: 'unchanged', message: fb?.length ? `up to date (with stand-ins: ${fb.join(', ')})` : 'up to date' };
  }
  let template = body.template;
  const fallbacks: string[] = [];
  for (;;) {
    try {
      await client.cluster.putComponentTemplate({ name, template, _meta: { managed_by: 'dockward', version: VERSION, dockward_hash: hash, fallbacks } });
      break;
    } catch (err) {
      const reason = JSON.stringify((err as { meta?: { body?: unknown } }).meta?.body ?? errorMessage(err));
      const m = MISSING_TYPE.exec(reason);
      const type = m?.[1] ?? m?.[2];
      if (!type || !TYPE_FALLBACKS[type] || fallbacks.includes(type)) {
        throw new SetupError('SETUP_TEMPLATE_REJECTED', `${target} was refused: ${errorMessage(err)}`, { cause: err });
      }
      fallbacks.push(type);
      template = replaceType(template, type) as Record<string, unknown>;
    }
  }
  const note = fallbacks.length ? ` — this cluster lacks ${fallbacks.join(', ')}; used stand-ins (${fallbacks.map((f) => `${f}→${TYPE_FALLBACKS[f]({ type: f }).type}`).join(', ')})` : '';
  return { step: 'index-management', target, status: current ? 'updated' : 'created', message: `installed${note}` };
}
