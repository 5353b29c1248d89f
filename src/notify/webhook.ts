import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { deliveryShape } from './delivery';
import { post } from './http';
import type { Attempt, Destination, Notification } from './message';
import { resolveSecret, secretRef, type Secret } from './secret';

export const webhookConfig = z
  .object({
    type: z.literal('webhook'),
    /** A plain URL, or a named secret when the URL itself carries a token. */
    url: z.union([z.url({ protocol: /^https?$/ }), secretRef]),
    /** HMAC-SHA256 key: the receiver checks `X-Dockward-Signature` with it. */
    secret: secretRef.optional(),
    /** Extra headers; a value may be a named secret (e.g. an Authorization token). */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), z.union([secretRef, z.string()])).default({}),
    ...deliveryShape,
  })
  .strict();
export type WebhookConfig = z.output<typeof webhookConfig>;

export const SIGNATURE_HEADER = 'x-dockward-signature';
export const TIMESTAMP_HEADER = 'x-dockward-timestamp';

/**
 * The signature covers `<timestamp>.<body>` (as Slack and Stripe sign theirs): a receiver that
 * also rejects old timestamps is safe from replays, not only from forgeries.
 */
export function sign(key: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
}

/** Generic webhook: the alert document as JSON, with `dockward.notification` saying what this message is. */
export class WebhookDestination implements Destination {
  readonly type = 'webhook';
  private readonly url: string;
  private readonly all: Secret[] = [];
  private readonly key: Secret | undefined;
  private readonly headers: Array<[string, string | Secret]>;

  constructor(readonly name: string, private readonly cfg: WebhookConfig) {
    if (typeof cfg.url === 'string') this.url = cfg.url;
    else {
      const s = resolveSecret(cfg.url);
      this.all.push(s);
      this.url = s.reveal();
    }
    this.key = cfg.secret ? resolveSecret(cfg.secret) : undefined;
    if (this.key) this.all.push(this.key);
    this.headers = Object.entries(cfg.headers).map(([k, v]) => {
      if (typeof v === 'string') return [k, v];
      const s = resolveSecret(v);
      this.all.push(s);
      return [k, s];
    });
  }

  secrets(): Secret[] {
    return this.all;
  }

  body(n: Notification): string {
    const alert = n.alert as { dockward?: Record<string, unknown> };
    return JSON.stringify({
      ...n.alert,
      dockward: {
        ...alert.dockward,
        notification: { kind: n.kind, route: n.route, count: n.count, first_seen: n.firstSeen, last_seen: n.lastSeen, suppressed: n.suppressed, kibana_url: n.kibanaUrl },
      },
    });
  }

  send(n: Notification, signal: AbortSignal): Promise<Attempt> {
    const body = this.body(n);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'dockward' };
    for (const [k, v] of this.headers) headers[k.toLowerCase()] = typeof v === 'string' ? v : v.reveal();
    if (this.key) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers[TIMESTAMP_HEADER] = ts;
      headers[SIGNATURE_HEADER] = sign(this.key.reveal(), ts, body);
    }
    return post(this.url, body, headers, this.cfg.timeout, signal);
  }
}

export const webhookType = { type: 'webhook', config: webhookConfig, create: (name: string, cfg: WebhookConfig) => new WebhookDestination(name, cfg) } as const;
