import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../support/http';

export interface Req { method: string; url: string; headers: http.IncomingHttpHeaders; body?: Record<string, unknown> }
type Obj = Record<string, unknown>;

/** Kibana's `SavedObjectsUtils.isRandomId`: ids of encrypted saved objects (rules, connectors) must match it. */
export const KIBANA_UUID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000)$/i;

/**
 * A stand-in for Kibana's connector and rule APIs (`/api/actions/connector/<id>`,
 * `/api/alerting/rule/<id>`, optionally under `/s/<space>`), answering with the documented shapes:
 * 200 with the object, 404 / 409 as `{statusCode, error, message}` with the saved-objects messages,
 * 400 for an unknown body key or a chosen id that is not a UUID (encrypted saved objects), 401 and
 * 403. It keeps what was written so a test can count objects; it proves HTTP behaviour only, never
 * that Kibana would accept a rule's params.
 */
export class FakeKibanaAlerting {
  readonly seen: Req[] = [];
  readonly connectors = new Map<string, Obj>();
  readonly rules = new Map<string, Obj>();
  spaces = new Set(['default', 'secops']);
  /** Authorization header that is accepted (any when unset). */
  auth?: string;
  /** Answer 403 to writes (a user without the Stack Rules / Connectors privilege). */
  forbidWrites = false;
  /** Ids whose next GET answers 404 although they exist: another host created them meanwhile. */
  readonly hideOnce = new Set<string>();
  private server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  writes(): Req[] {
    return this.seen.filter((s) => s.method !== 'GET');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const r: Req = { method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
    this.seen.push(r);
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const err = (status: number, error: string, message: string) => send(status, { statusCode: status, error, message });
    if (this.auth && req.headers.authorization !== this.auth) return err(401, 'Unauthorized', '[security_exception]: unable to authenticate user');
    const m = /^(?:\/s\/([^/]+))?\/api\/(actions\/connector|alerting\/rule)\/([^/?]+)$/.exec(req.url!);
    if (!m) return err(404, 'Not Found', 'Not Found');
    const [, space = 'default', kind, id] = m;
    if (!this.spaces.has(space)) return err(404, 'Not Found', `Saved object [space/${space}] not found`);
    if (r.method !== 'GET' && !req.headers['kbn-xsrf']) return err(400, 'Bad Request', 'Request must contain a kbn-xsrf header.');
    const connector = kind === 'actions/connector';
    const store = connector ? this.connectors : this.rules;
    const soType = connector ? 'action' : 'alert';
    const key = `${space}/${id}`;
    const current = store.get(key);
    if (r.method === 'GET') {
      if (!current || this.hideOnce.delete(id)) return err(404, 'Not Found', `Saved object [${soType}/${id}] not found`);
      return send(200, current);
    }
    if (this.forbidWrites) return err(403, 'Forbidden', connector ? 'Unauthorized to create actions' : `Unauthorized by "stackAlerts" to create ".es-query" rule`);
    const body = r.body ?? {};
    // The route schemas are strict: a key the API does not take is a 400 naming it.
    const allowed = connector
      ? r.method === 'POST' ? ['name', 'connector_type_id', 'config', 'secrets'] : ['name', 'config', 'secrets']
      : r.method === 'POST' ? ['name', 'rule_type_id', 'consumer', 'schedule', 'enabled', 'tags', 'params', 'actions', 'throttle', 'notify_when'] : ['name', 'schedule', 'tags', 'params', 'actions', 'throttle', 'notify_when'];
    const extra = Object.keys(body).find((k) => !allowed.includes(k));
    if (extra) return err(400, 'Bad Request', `[request body.${extra}]: definition for this key is missing`);
    if (r.method === 'POST') {
      if (!KIBANA_UUID.test(id)) return err(400, 'Bad Request', 'Predefined IDs are not allowed for saved objects with encrypted attributes unless the ID is a UUID.');
      // Rules and connectors are multiple-isolated: the stored id has no space prefix, so an id taken in any space conflicts.
      if (current || [...store.keys()].some((k) => k.endsWith(`/${id}`))) return err(409, 'Conflict', `Saved object [${soType}/${id}] conflict`);
      if (!connector) {
        const missing = ((body.actions ?? []) as Obj[]).map((a) => String(a.id)).filter((a) => !this.connectors.has(`${space}/${a}`));
        if (missing.length) return err(400, 'Bad Request', `Failed to validate actions due to the following error: Invalid connectors: ${missing.join(', ')}`);
      }
      const created = connector ? this.connectorDoc(id, body) : this.ruleDoc(id, body, undefined);
      store.set(key, created);
      return send(200, created);
    }
    if (r.method === 'PUT') {
      if (!current) return err(404, 'Not Found', `Saved object [${soType}/${id}] not found`);
      const updated = connector ? { ...this.connectorDoc(id, { ...current, ...body }), connector_type_id: current.connector_type_id } : this.ruleDoc(id, body, current);
      store.set(key, updated);
      return send(200, updated);
    }
    return err(404, 'Not Found', 'Not Found');
  }

  /** GET's connector shape (snake_case), with the `.index` config defaults Kibana fills in. */
  private connectorDoc(id: string, b: Obj): Obj {
    const config = b.connector_type_id === '.index' ? { refresh: false, executionTimeField: null, ...(b.config as Obj) } : { ...(b.config as Obj) };
    return { id, name: b.name, connector_type_id: b.connector_type_id, config, is_preconfigured: false, is_deprecated: false, is_missing_secrets: false, is_system: false };
  }

  /** GET's rule shape: the body plus what Kibana keeps (type and consumer survive an update, which may not change them). */
  private ruleDoc(id: string, b: Obj, prev: Obj | undefined): Obj {
    const actions = ((b.actions ?? []) as Obj[]).map((a) => ({ ...a, connector_type_id: (this.connectors.get(`default/${a.id}`) ?? [...this.connectors.values()].find((c) => c.id === a.id))?.connector_type_id }));
    return {
      id, name: b.name, tags: b.tags ?? [], schedule: b.schedule, params: b.params, actions,
      rule_type_id: prev?.rule_type_id ?? b.rule_type_id, consumer: prev?.consumer ?? b.consumer, enabled: prev?.enabled ?? b.enabled ?? true,
      revision: prev ? Number(prev.revision) + 1 : 0, mute_all: false, muted_alert_ids: [], execution_status: { status: 'pending' },
    };
  }
}
