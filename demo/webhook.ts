import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One message the demo's receiver got from dockward's webhook destination. */
export interface Received {
  at: number;
  rule: string;
  container: string;
  kind: string;
  count: number;
  message: string;
}

const MAX_BODY = 1024 * 1024;

/**
 * The demo's stand-in for a SOC endpoint: a webhook receiver on 127.0.0.1 that keeps what
 * dockward's webhook destination posts (the alert document with `dockward.notification`).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => {
        res.writeHead(size <= MAX_BODY ? 200 : 413).end();
        if (size > MAX_BODY) return;
        try {
          const d = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Doc;
          this.received.push({
            at: Date.now(),
            rule: d.rule?.id ?? '?',
            container: d.container?.name ?? 'the host',
            kind: d.dockward?.notification?.kind ?? 'alert',
            count: d.dockward?.notification?.count ?? 1,
            message: String(d.message ?? '').slice(0, 160),
          });
        } catch {
          // not JSON: not dockward's
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/dockward`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface Doc {
  message?: unknown;
  rule?: { id?: string };
  container?: { name?: string };
  dockward?: { notification?: { kind?: string; count?: number } };
}
