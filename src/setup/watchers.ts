import type { Client } from '@elastic/elasticsearch';
import { esQueryRules } from './alert-rules';
import { hashOf, putIfChanged, reasonOf, skipped } from './hashed';
import { KibanaClient } from './kibana-client';
import { installKibanaRules } from './kibana-rules';
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
      const rules = await installKibanaRules(new KibanaClient({ ...opts.kibana, url: opts.kibana.url }), opts);
      return [skipped(STEP, 'Watcher', `${why}; installing Kibana rules instead`), ...rules];
    }
    return [skipped(STEP, 'alerts', `${why}, and setup.kibana.url is not set for the Basic-licence Kibana rules`)];
  },
};
