import { savedObjects, toNdjson } from '../kibana/bundle';
import type { SavedObject } from '../kibana/model';
import { sameObject, storedObjects } from './kibana-compare';
import { KibanaClient, KibanaError } from './kibana-client';
import { skipped } from './hashed';
import { defaultAssetOptions } from './setup-config';
import type { SetupContext, SetupStep, StepResult } from './step';

const STEP = 'dashboards';

/** The import API's 200 answer (Kibana reports failed objects inside it, not as an HTTP error). */
export interface ImportResponse {
  success: boolean;
  successCount: number;
  successResults?: Array<{ type: string; id: string; meta?: { title?: string }; overwrite?: boolean }>;
  errors?: Array<{ type: string; id: string; meta?: { title?: string }; error: { type: string; message?: string; references?: Array<{ type: string; id: string }>; statusCode?: number } }>;
}

function describeError(e: NonNullable<ImportResponse['errors']>[number]): string {
  const what = e.error.type === 'missing_references' ? `missing references ${(e.error.references ?? []).map((r) => `${r.type}/${r.id}`).join(', ')}` : e.error.message ?? e.error.type;
  return `${e.error.type}: ${what}`;
}

/**
 * Data views, saved searches and dashboards through Kibana's saved-objects import API with
 * overwrite, so ids stay stable and a second run replaces rather than duplicates. Before that,
 * the bundle's ids are exported and compared: objects Kibana holds unchanged are reported
 * `unchanged` and left out of the import (none changed: no import at all). Kibana answers 200 even
 * when objects failed: each failure is reported as this step's own failed line.
 */
export const dashboardsStep: SetupStep = {
  name: STEP,
  description: 'Kibana data views, saved searches and dashboards (setup.kibana)',

  render() {
    return { objects: savedObjects().map((o) => `${o.type}/${o.id}`) };
  },

  async run(ctx: SetupContext): Promise<StepResult[]> {
    const k = (ctx.options ?? defaultAssetOptions()).kibana;
    if (!k.url) return [skipped(STEP, 'Kibana assets', 'setup.kibana.url is not set (or import kibana/dockward.ndjson by hand: `dockward export dashboards`)')];
    const client = new KibanaClient({ ...k, url: k.url });
    const all = savedObjects();
    // Objects Kibana already holds with the same content are neither re-imported nor reported as updated.
    const stored = await storedObjects(client, all);
    const same = new Set(all.filter((o) => { const t = stored?.get(`${o.type}/${o.id}`); return t !== undefined && sameObject(o, t); }).map((o) => `${o.type}/${o.id}`));
    const changed = all.filter((o) => !same.has(`${o.type}/${o.id}`));
    const unchanged = (o: SavedObject): StepResult => ({ step: STEP, target: `${o.type} ${o.id}`, status: 'unchanged', message: String(o.attributes.title) });
    if (!changed.length) return all.map(unchanged);
    let res: ImportResponse;
    try {
      res = (await client.upload<ImportResponse>(client.spacePath('/api/saved_objects/_import?overwrite=true'), 'dockward.ndjson', toNdjson(changed))).body;
    } catch (err) {
      if (err instanceof KibanaError && err.status === 404 && k.space) throw new Error(`Kibana has no space "${k.space}" (${err.message})`);
      if (err instanceof KibanaError && (err.status === 401 || err.status === 403)) throw new Error(`Kibana refused the credentials or the privilege to import saved objects: ${err.message}`);
      throw err;
    }
    const results: StepResult[] = [];
    const byKey = new Map((res.successResults ?? []).map((r) => [`${r.type}/${r.id}`, r]));
    for (const o of all) {
      if (same.has(`${o.type}/${o.id}`)) { results.push(unchanged(o)); continue; }
      const ok = byKey.get(`${o.type}/${o.id}`);
      const failed = res.errors?.find((e) => e.type === o.type && e.id === o.id);
      if (failed) results.push({ step: STEP, target: `${o.type} ${o.id}`, status: 'failed', message: describeError(failed) });
      else if (ok) results.push({ step: STEP, target: `${o.type} ${o.id}`, status: ok.overwrite ? 'updated' : 'created', message: String(o.attributes.title) });
      // Resolvable errors elsewhere make Kibana write nothing at all.
      else results.push({ step: STEP, target: `${o.type} ${o.id}`, status: 'failed', message: 'not imported (Kibana wrote nothing because other objects failed)' });
    }
    return results;
  },
};
