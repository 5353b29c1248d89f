import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../support/http';

/** What one request to the fake carried: enough to check the client spoke the import API's dialect. */
export interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; field?: string; filename?: string; ndjson?: string }

type Stored = { type: string; id: string; attributes: Record<string, unknown>; references?: unknown[]; [k: string]: unknown };

/**
 * Answers `POST [/s/<space>]/api/saved_objects/_import` with the response shapes Kibana documents
 * (kibana-9-assets.md §6.1), and `POST …/_export` by type and id: NDJSON of the stored objects, or
 * the 400 `Error fetching objects to export` naming the missing ones (Kibana's own API tests). It
 * checks nothing about the objects: it exists only to test how setup behaves over HTTP (success,
 * per-object errors inside a 200, 401, unknown space, re-runs), never whether the assets are valid.
 */
export class FakeKibana {
  readonly seen: Seen[] = [];
  /** Decides the answer for the parsed upload. */
  respond: (objects: Array<{ type: string; id: string; attributes: { title?: string } }>, seen: Seen) => { status: number; body: unknown } = (objs, s) => ({
    status: 200,
    body: { success: true, successCount: objs.length, successResults: objs.map((o) => ({ type: o.type, id: o.id, meta: { title: o.attributes.title }, ...(s.url.includes('overwrite=true') && this.known.has(`${o.type}/${o.id}`) ? { overwrite: true } : {}) })), errors: [], warnings: [] },
  });
  /** What each space holds, by `<space>|<type>/<id>`, as an export would return it. */
  readonly stored = new Map<string, Stored>();
  /** What Kibana does to an object on import; by default it adds its bookkeeping, as migrations and the repository do. */
  migrate: (o: Stored) => Stored = (o) => ({ ...o, typeMigrationVersion: o.typeMigrationVersion, created_at: '2026-11-28T20:00:00.000Z', updated_at: '2026-11-28T20:00:00.000Z', version: 'WzEsMV0=', managed: false });
  private space = 'default';
  private get known(): Set<string> {
    return new Set([...this.stored.keys()].filter((k) => k.startsWith(`${this.space}|`)).map((k) => k.slice(this.space.length + 1)));
  }
  private server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const seen: Seen = { method: req.method!, url: req.url!, headers: req.headers };
    this.seen.push(seen);
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const m = /^(?:\/s\/([^/]+))?\/api\/saved_objects\/(_import|_export)(\?.*)?$/.exec(req.url!);
    if (!m || req.method !== 'POST') return send(404, { statusCode: 404, error: 'Not Found', message: 'Not Found' });
    if (m[1] && m[1] !== 'secops') return send(404, { statusCode: 404, error: 'Not Found', message: `Saved object [space/${m[1]}] not found` });
    if (!req.headers['kbn-xsrf']) return send(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
    this.space = m[1] ?? 'default';
    if (m[2] === '_export') return this.export(JSON.parse(raw), res);
    const boundary = /boundary=(.+)$/.exec(String(req.headers['content-type']))?.[1];
    const part = boundary ? raw.split(`--${boundary}`)[1] : undefined;
    const head = part?.split('\r\n\r\n')[0] ?? '';
    seen.field = /name="([^"]+)"/.exec(head)?.[1];
    seen.filename = /filename="([^"]+)"/.exec(head)?.[1];
    seen.ndjson = part?.slice(head.length + 4, -2);
    if (!seen.filename?.endsWith('.ndjson')) return send(400, { statusCode: 400, error: 'Bad Request', message: `Invalid file extension ${seen.filename}` });
    const objects = seen.ndjson!.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { status, body } = this.respond(objects, seen);
    const written = new Set(((body as { successResults?: Array<{ type: string; id: string }> }).successResults ?? []).map((r) => `${r.type}/${r.id}`));
    if (status === 200) for (const o of objects) if (written.has(`${o.type}/${o.id}`)) this.stored.set(`${this.space}|${o.type}/${o.id}`, this.migrate(o));
    send(status, body);
  }

  private export(req: { objects?: Array<{ type: string; id: string }>; excludeExportDetails?: boolean }, res: http.ServerResponse): void {
    const wanted = req.objects ?? [];
    const missing = wanted.filter((o) => !this.stored.has(`${this.space}|${o.type}/${o.id}`));
    if (missing.length) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        statusCode: 400, error: 'Bad Request', message: 'Error fetching objects to export',
        attributes: { objects: missing.map((o) => ({ id: o.id, type: o.type, error: { error: 'Not Found', message: `Saved object [${o.type}/${o.id}] not found`, statusCode: 404 } })) },
      }));
      return;
    }
    const lines = wanted.map((o) => JSON.stringify(this.stored.get(`${this.space}|${o.type}/${o.id}`)));
    if (!req.excludeExportDetails) lines.push(JSON.stringify({ excludedObjects: [], excludedObjectsCount: 0, exportedCount: wanted.length, missingRefCount: 0, missingReferences: [] }));
    res.writeHead(200, { 'content-type': 'application/ndjson' });
    res.end(lines.join('\n'));
  }
}
