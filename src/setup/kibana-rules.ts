import { createHash } from 'node:crypto';
import { connectors, esQueryRules, type Connector, type EsQueryRule } from './alert-rules';
import { hashOf } from './hashed';
import { KibanaError, type KibanaClient } from './kibana-client';
import type { AssetOptions } from './setup-config';
import type { StepResult, StepStatus } from './step';

const STEP = 'watchers';
const HASH_TAG = 'dockward-hash:';

/**
 * The Kibana id of one of dockward's connectors or rules: a name-based (version 5) UUID of its
 * logical id. Rules and connectors hold encrypted attributes (API key, secrets), and Kibana's
 * saved-objects repository refuses a chosen id for those unless it looks like a UUID
 * ("Predefined IDs are not allowed for saved objects with encrypted attributes unless the ID is a
 * UUID", `getValidId`). Derived, not random, so every run and every host addresses the same object.
 */
export function kibanaId(logical: string): string {
  const h = createHash('sha1').update(`dockward:${logical}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The Kibana id in one space. Rules and connectors are `multiple-isolated` saved objects: their
 * stored id carries no space prefix, so an id is unique across all spaces, and the same id in a
 * second space is a 409 there. The default space keeps the plain derivation; any other space gets
 * its own ids.
 */
export function spaceId(logical: string, space?: string): string {
  return kibanaId(space && space !== 'default' ? `${space}/${logical}` : logical);
}

/** What `GET /api/actions/connector/<id>` answers (snake_case since 7.13). */
interface ConnectorResponse { id: string; name: string; connector_type_id: string; config?: Record<string, unknown>; is_preconfigured?: boolean }

const absent = (e: unknown): null => {
  if (e instanceof KibanaError && e.status === 404) return null;
  throw e;
};

/** 401/403 name what is missing instead of a bare status; anything else passes through. */
function explain(err: unknown, what: string): never {
  if (err instanceof KibanaError && (err.status === 401 || err.status === 403)) {
    throw new Error(`Kibana refused the credentials or the privilege to ${what} (needs "all" on Stack Rules and on Actions and Connectors): ${err.message}`);
  }
  throw err;
}

/** Every key dockward sets is stored with the same value (Kibana adds defaults, e.g. `executionTimeField: null`). */
function sameConfig(want: Record<string, unknown>, got: Record<string, unknown> | undefined): boolean {
  return Object.entries(want).every(([k, v]) => JSON.stringify(got?.[k]) === JSON.stringify(v));
}

async function installConnector(kibana: KibanaClient, c: Connector, space?: string): Promise<StepResult> {
  const id = spaceId(c.id, space);
  const path = kibana.spacePath(`/api/actions/connector/${id}`);
  const target = `Kibana connector ${c.id}`;
  const got = await kibana.json<ConnectorResponse>('GET', path).then((r) => r.body, absent);
  if (got && got.connector_type_id !== c.connector_type_id) {
    // A connector's type cannot be changed by update; someone else owns this id.
    return { step: STEP, target, status: 'failed', message: `id ${id} holds a ${got.connector_type_id} connector, not ${c.connector_type_id}` };
  }
  if (got && got.name === c.name && sameConfig(c.config, got.config)) return { step: STEP, target, status: 'unchanged', message: `${c.connector_type_id} ${id}` };
  let status: StepStatus = got ? 'updated' : 'created';
  if (got) await kibana.json('PUT', path, { name: c.name, config: c.config, secrets: {} });
  else {
    await kibana.json('POST', path, { name: c.name, connector_type_id: c.connector_type_id, config: c.config, secrets: {} }).catch(async (e) => {
      // Created meanwhile (another host running setup): update it instead.
      if (!(e instanceof KibanaError && e.status === 409)) throw e;
      await kibana.json('PUT', path, { name: c.name, config: c.config, secrets: {} });
      status = 'updated';
    });
  }
  return { step: STEP, target, status, message: `${c.connector_type_id} ${id}` };
}

/** The rule as dockward wants it, with its actions pointing at the connectors' Kibana ids and a tag holding its hash. */
function tagged(rule: EsQueryRule, hash: string, space?: string): EsQueryRule {
  return { ...rule, tags: [...rule.tags, `${HASH_TAG}${hash}`], actions: rule.actions.map((a) => ({ ...a, id: spaceId(a.id, space) })) };
}

async function installRule(kibana: KibanaClient, logical: string, rule: EsQueryRule, space?: string): Promise<StepResult> {
  const id = spaceId(logical, space);
  const path = kibana.spacePath(`/api/alerting/rule/${id}`);
  const target = `Kibana rule ${logical}`;
  const hash = hashOf(rule);
  const body = tagged(rule, hash, space);
  // The update API takes neither the type nor the consumer (fixed at creation) nor `enabled` (its own _enable/_disable routes).
  const { rule_type_id: _t, consumer: _c, enabled: _e, ...update } = body;
  const got = await kibana.json<{ tags?: string[]; rule_type_id?: string }>('GET', path).then((r) => r.body, absent);
  if (got && got.rule_type_id !== undefined && got.rule_type_id !== rule.rule_type_id) {
    return { step: STEP, target, status: 'failed', message: `id ${id} holds a ${got.rule_type_id} rule, not ${rule.rule_type_id}` };
  }
  const stored = got?.tags?.find((t) => t.startsWith(HASH_TAG))?.slice(HASH_TAG.length);
  if (stored === hash) return { step: STEP, target, status: 'unchanged', message: `.es-query ${id}` };
  let status: StepStatus = got ? 'updated' : 'created';
  if (got) await kibana.json('PUT', path, update);
  else {
    await kibana.json('POST', path, body).catch(async (e) => {
      if (!(e instanceof KibanaError && e.status === 409)) throw e;
      await kibana.json('PUT', path, update);
      status = 'updated';
    });
  }
  return { step: STEP, target, status, message: `.es-query ${rule.name} (${id})` };
}

/**
 * The Basic-licence alerting: the `.server-log` (and `.index`) connectors, then one `.es-query` rule
 * per watch, under fixed ids. A second run reads each object back and writes only what differs, so
 * it reports `unchanged` and creates no duplicates.
 */
export async function installKibanaRules(kibana: KibanaClient, opts: AssetOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  try {
    for (const c of connectors(opts.watchers)) results.push(await installConnector(kibana, c, opts.kibana.space));
    for (const { id, rule } of esQueryRules(opts.watchers, opts.namespace ?? '*')) results.push(await installRule(kibana, id, rule, opts.kibana.space));
  } catch (err) {
    if (err instanceof KibanaError && err.status === 404 && opts.kibana.space && /space/i.test(err.message)) throw new Error(`Kibana has no space "${opts.kibana.space}" (${err.message})`);
    explain(err, 'create connectors and rules');
  }
  return results;
}
