import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What one request to the fake carried: enough to check the client spoke the import API's dialect. */
export interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; field?: string; filename?: string; ndjson?: string }

/**
 * Answers `POST [/s/<space>]/api/saved_objects/_import` with the response shapes Kibana documents
 * (kibana-9-assets.md §6.1). It checks nothing about the objects: it exists only to test how setup
 * behaves over HTTP (success, per-object errors inside a 200, 401, unknown space), never whether the
 * assets are valid.
 */
export class FakeKibana {
  readonly seen: Seen[] = [];
  /** Decides the answer for the parsed upload. */
  respond: (objects: Array<{ type: string; id: string; attributes: { title?: string } }>, seen: Seen) => { status: number; body: unknown } = (objs, s) => ({
    status: 200,
    body: { success: true, successCount: objs.length, successResults: objs.map((o) => ({ type: o.type, id: o.id, meta: { title: o.attributes.title }, ...(s.url.includes('overwrite=true') && this.known.has(`${o.type}/${o.id}`) ? { overwrite: true } : {}) })), errors: [], warnings: [] },
  });
  readonly known = new Set<string>();
  private server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const seen: Seen = { method: req.method!, url: req.url!, headers: req.headers };
    this.seen.push(seen);
    const send = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const m = /^(?:\/s\/([^/]+))?\/api\/saved_objects\/_import(\?.*)?$/.exec(req.url!);
    if (!m || req.method !== 'POST') return send(404, { statusCode: 404, error: 'Not Found', message: 'Not Found' });
    if (m[1] && m[1] !== 'secops') return send(404, { statusCode: 404, error: 'Not Found', message: `Saved object [space/${m[1]}] not found` });
    if (!req.headers['kbn-xsrf']) return send(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
    const boundary = /boundary=(.+)$/.exec(String(req.headers['content-type']))?.[1];
    const part = boundary ? raw.split(`--${boundary}`)[1] : undefined;
    const head = part?.split('\r\n\r\n')[0] ?? '';
    seen.field = /name="([^"]+)"/.exec(head)?.[1];
    seen.filename = /filename="([^"]+)"/.exec(head)?.[1];
    seen.ndjson = part?.slice(head.length + 4, -2);
    if (!seen.filename?.endsWith('.ndjson')) return send(400, { statusCode: 400, error: 'Bad Request', message: `Invalid file extension ${seen.filename}` });
    const objects = seen.ndjson!.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const { status, body } = this.respond(objects, seen);
    if (status === 200) for (const o of objects) this.known.add(`${o.type}/${o.id}`);
    send(status, body);
  }
}
