import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { KibanaConfig } from './setup-config';

export interface KibanaResponse<T = unknown> { status: number; body: T }

/** Kibana answered with an error status; `status` and Kibana's message are kept for the report. */
export class KibanaError extends Error {
  /** The parsed error body: some APIs say which objects failed in it (`attributes.objects` of an export). */
  constructor(readonly status: number, message: string, readonly body?: unknown) {
    super(message);
  }
}

/**
 * Just enough of Kibana's HTTP API for setup: JSON requests and the saved-objects multipart
 * upload, with `kbn-xsrf`, basic or API-key auth, a space prefix and the configured CAs.
 */
export class KibanaClient {
  private readonly base: URL;
  private readonly ca?: Buffer[];

  constructor(private readonly cfg: KibanaConfig & { url: string }) {
    this.base = new URL(cfg.url);
    if (cfg.ssl.certificate_authorities.length) this.ca = cfg.ssl.certificate_authorities.map((f) => readFileSync(f));
  }

  /** `/s/<space>` + path, or path in the default space. */
  spacePath(path: string): string {
    return (this.cfg.space ? `/s/${encodeURIComponent(this.cfg.space)}` : '') + path;
  }

  json<T>(method: string, path: string, body?: unknown): Promise<KibanaResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return this.send<T>(method, path, payload, payload ? { 'content-type': 'application/json' } : {});
  }

  /** A JSON request whose answer is kept as text (the export API answers NDJSON, which one line would parse as JSON). */
  jsonForText(method: string, path: string, body: unknown): Promise<KibanaResponse<string>> {
    const payload = Buffer.from(JSON.stringify(body));
    return this.send<string>(method, path, payload, { 'content-type': 'application/json' }, true);
  }

  /** POST a file as `multipart/form-data` field `file` (the import API wants a `.ndjson` name). */
  upload<T>(path: string, filename: string, content: string): Promise<KibanaResponse<T>> {
    const boundary = `dockward${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/ndjson\r\n\r\n`),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return this.send<T>('POST', path, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
  }

  private send<T>(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, rawOk = false): Promise<KibanaResponse<T>> {
    const url = new URL(path, this.base);
    const h: Record<string, string | number> = { 'kbn-xsrf': 'true', accept: 'application/json', ...headers };
    if (body) h['content-length'] = body.length;
    if (this.cfg.api_key) h.authorization = `ApiKey ${this.cfg.api_key}`;
    else if (this.cfg.username !== undefined) h.authorization = `Basic ${Buffer.from(`${this.cfg.username}:${this.cfg.password ?? ''}`).toString('base64')}`;
    const secure = url.protocol === 'https:';
    const opts: https.RequestOptions = { method, headers: h, timeout: 60_000 };
    if (secure) {
      opts.rejectUnauthorized = this.cfg.ssl.verification_mode !== 'none';
      if (this.ca) opts.ca = this.ca;
      if (this.cfg.ssl.verification_mode === 'certificate') opts.checkServerIdentity = () => undefined;
    }
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try { parsed = text ? JSON.parse(text) : {}; } catch { /* a proxy's HTML error page stays text */ }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const msg = typeof parsed === 'object' && parsed && 'message' in parsed ? String((parsed as { message: unknown }).message) : text.slice(0, 300);
            reject(new KibanaError(status, `Kibana ${method} ${url.pathname} answered ${status}: ${msg}`, parsed));
          } else resolve({ status, body: (rawOk ? text : parsed) as T });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`Kibana ${method} ${url.pathname} timed out`)));
      req.on('error', (err) => reject(new Error(`Kibana at ${this.base.origin} is not reachable: ${err.message}`)));
      req.end(body);
    });
  }
}
