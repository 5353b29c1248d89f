import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  /** The status this receiver answered with. */
  status: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for Slack or a webhook endpoint: it records every
 * request and answers from a script (`answer(request, n)`), e.g. 429 with Retry-After, then 500,
 * then 200. `mode: 'blackhole'` accepts connections and never answers.
 */
export class Receiver {
  readonly got: Received[] = [];
  private server!: Server;
  private n = 0;

  constructor(private readonly answer: (r: Omit<Received, 'status'>, n: number) => Answer = () => ({ status: 200, body: 'ok' }), private readonly mode: 'normal' | 'blackhole' = 'normal') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.mode === 'blackhole') return; // never answers; the client's timeout must end it
        const body = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          /* not JSON */
        }
        const r = { at: Date.now(), path: req.url ?? '', headers: req.headers, body, json };
        const a = this.answer(r, this.n++);
        this.got.push({ ...r, status: a.status });
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  accepted(): Received[] {
    return this.got.filter((r) => r.status >= 200 && r.status < 300);
  }

  async waitFor(pred: (got: Received[]) => boolean, timeoutMs: number, what = 'requests'): Promise<Received[]> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.got)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${this.got.length}: ${JSON.stringify(this.got.map((g) => [g.status, g.body.slice(0, 200)]))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.got;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
