import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { VERSION } from '../version';
import type { DegradedReason } from './health';
import type { Telemetry } from './telemetry';

export const httpConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Loopback by default: metrics name containers. */
    host: z.string().default('127.0.0.1'),
    /** 5066 as the Beats use; 0 picks a free port (logged). */
    port: z.number().int().min(0).max(65535).default(5066),
  })
  .strict()
  .prefault({});
export type HttpConfig = z.output<typeof httpConfig>;

export interface HealthSource {
  /** 'ok', or why not. */
  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> };
}

/**
 * GET /metrics: Prometheus text. GET /health: JSON, 200 when delivering, 503 when degraded:
 * Elasticsearch refusing or unreachable while documents wait (the sink's `source`), or any reason
 * a component registered in `telemetry.health` (the spool cannot write, a state file was moved
 * aside). `reasons` lists every one of them; the rest of dockward keeps working meanwhile.
 */
export async function startHttpServer(cfg: HttpConfig, telemetry: Telemetry, source: HealthSource): Promise<Server | undefined> {
  if (!cfg.enabled) return undefined;
  const started = Date.now();
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': telemetry.registry.contentType });
        res.end(await telemetry.registry.metrics());
      } else if (req.url === '/health' || req.url === '/') {
        const h = healthOf(source, telemetry);
        res.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: h.status, version: VERSION, uptime_s: Math.round((Date.now() - started) / 1000), ...h.details, reasons: h.reasons }));
      } else {
        res.writeHead(404).end();
      }
    })().catch((err) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, resolve);
  });
  const addr = server.address() as AddressInfo;
  telemetry.event('http.listening', 'info', `metrics and health on http://${addr.address}:${addr.port} (/metrics, /health)`, { port: addr.port });
  return server;
}

/** The sink's health and the components' degradation reasons, as one answer. */
export function healthOf(source: HealthSource, telemetry: Telemetry): { status: 'ok' | 'degraded'; details: Record<string, unknown>; reasons: DegradedReason[] } {
  const h = source.health();
  const reasons = telemetry.health.list();
  if (h.status !== 'ok') {
    const last = h.details.last_error as { at?: unknown; reason?: unknown } | null | undefined;
    const reason = typeof last?.reason === 'string' ? last.reason : 'bulk requests failing';
    reasons.unshift({ component: 'sink', reason, since: typeof last?.at === 'string' ? last.at : new Date().toISOString() });
  }
  return { status: reasons.length ? 'degraded' : 'ok', details: h.details, reasons };
}
