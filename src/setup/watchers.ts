import type { Client } from '@elastic/elasticsearch';
import { connectors, esQueryRules, type EsQueryRule } from './alert-rules';
import { hashOf, putIfChanged, reasonOf, skipped } from './hashed';
import { KibanaClient, KibanaError } from './kibana-client';
import { defaultAssetOptions, type AssetOptions } from './setup-config';
import type { SetupContext, SetupStep, StepResult } from './step';
import { watchDefs } from './watch-defs';

const STEP = 'watchers';
/** Watcher's licence floor (WatcherConstants: STANDARD); Basic is below it. */
const WATCHER_LICENCES = ['standard', 'gold', 'platinum', 'enterprise', 'trial'];

/** null when Watcher can be used here, otherwise why not. */
async function watcherUnavailable(ctx: SetupContext): Promise<string | null> {
  const lic = ctx.cluster.license;
  if (!lic) return 'the cluster reports no licence (no x-pack)';
  if (!WATCHER_LICENCES.includes(lic.type) || lic.status !== 'active') return `Watcher needs a Gold or higher licence (this cluster: ${lic.type}, ${lic.status})`;
  try {
    await ctx.client.watcher.stats();
    return null;
  } catch (err) {
    return `Watcher is not available (${reasonOf(err)})`;
  }
}

async function installWatches(client: Client, opts: AssetOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const d of watchDefs({ cfg: opts.watchers, namespace: opts.namespace ?? '*' })) {
    const hash = hashOf(d.body);
    results.push(await putIfChanged(STEP, `watch ${d.id}`, hash,
      async () => {
        const got = await client.watcher.getWatch({ id: d.id }, { ignore: [404] });
        return got.found ? String(got.watch?.metadata?.dockward_hash ?? '') : null;
      },
      () => client.watcher.putWatch({ ...d.body, metadata: { ...d.body.metadata, dockward_hash: hash } }),
      `${d.title}, every ${opts.watchers.interval}`));
  }
  return results;
}

async function installRules(kibana: KibanaClient, opts: AssetOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const c of connectors(opts.watchers)) {
    const path = kibana.spacePath(`/api/actions/connector/${c.id}`);
    const exists = await kibana.json('GET', path).then(() => true, (e) => { if (e instanceof KibanaError && e.status === 404) return false; throw e; });
    if (exists) await kibana.json('PUT', path, { name: c.name, config: c.config });
    else await kibana.json('POST', path, { name: c.name, connector_type_id: c.connector_type_id, config: c.config });
    results.push({ step: STEP, target: `Kibana connector ${c.id}`, status: exists ? 'updated' : 'created', message: c.connector_type_id });
  }
  for (const { id, rule } of esQueryRules(opts.watchers, opts.namespace ?? '*')) {
    const hash = hashOf(rule);
    const tagged: EsQueryRule = { ...rule, tags: [...rule.tags, `dockward-hash:${hash}`] };
    const path = kibana.spacePath(`/api/alerting/rule/${id}`);
    results.push(await putIfChanged(STEP, `Kibana rule ${id}`, hash,
      async () => {
        const got = await kibana.json<{ tags?: string[] }>('GET', path).catch((e) => { if (e instanceof KibanaError && e.status === 404) return null; throw e; });
        return got ? (got.body.tags ?? []).find((t) => t.startsWith('dockward-hash:'))?.slice('dockward-hash:'.length) ?? '' : null;
      },
      async () => {
        const { rule_type_id: _t, consumer: _c, enabled: _e, ...update } = tagged;
        await kibana.json('POST', path, tagged).catch((e) => (e instanceof KibanaError && e.status === 409 ? kibana.json('PUT', path, update) : Promise.reject(e)));
      },
      `.es-query ${rule.name}`));
  }
  return results;
}

/**
 * Alerting without writing queries: Watcher watches where the licence allows them; otherwise the
 * equivalent Kibana `.es-query` rules with Basic connectors (server log, index); otherwise one
 * skipped line saying why.
 */
export const watchersStep: SetupStep = {
  name: STEP,
  description: 'alerts: Watcher watches (Gold+), else Kibana .es-query rules (Basic) (setup.watchers)',

  render() {
    const o = defaultAssetOptions();
    return { watches: Object.fromEntries(watchDefs({ cfg: o.watchers, namespace: '*' }).map((d) => [d.id, d.body])), kibana_rules: Object.fromEntries(esQueryRules(o.watchers).map((r) => [r.id, r.rule])) };
  },

  async run(ctx: SetupContext): Promise<StepResult[]> {
    const opts = ctx.options ?? defaultAssetOptions();
    const why = await watcherUnavailable(ctx);
    if (!why) return installWatches(ctx.client, opts);
    if (opts.kibana.url) {
      const rules = await installRules(new KibanaClient({ ...opts.kibana, url: opts.kibana.url }), opts);
      return [skipped(STEP, 'Watcher', `${why}; installing Kibana rules instead`), ...rules];
    }
    return [skipped(STEP, 'alerts', `${why}, and setup.kibana.url is not set for the Basic-licence Kibana rules`)];
  },
};
