import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import winston from 'winston';
import { startHttpServer, type HealthSource } from '../../src/telemetry/http-server';
import { Telemetry } from '../../src/telemetry/telemetry';

async function get(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/health: the sink\'s state and every registered degradation reason', () => {
  it('reports degraded with the reasons while a component is degraded, and ok once it clears', async () => {
    const t = new Telemetry(winston.createLogger({ silent: true }));
    let sink: ReturnType<HealthSource['health']> = { status: 'ok', details: { queue: { documents: 0 } } };
    const server = (await startHttpServer({ enabled: true, host: '127.0.0.1', port: 0 }, t, { health: () => sink }))!;
    const port = (server.address() as AddressInfo).port;
    try {
      let h = await get(port);
      assert.equal(h.status, 200);
      assert.equal(h.body.status, 'ok');
      assert.deepEqual(h.body.reasons, []);

      t.health.degrade('spool', 'cannot write to /var/lib/dockward/spool: ENOSPC: no space left on device');
      t.health.degrade('cursors', '/var/lib/dockward/cursors.json was unusable (not JSON) and moved to /var/lib/dockward/cursors.json.corrupt-20250101T000000000Z');
      h = await get(port);
      assert.equal(h.status, 503);
      assert.equal(h.body.status, 'degraded');
      const reasons = h.body.reasons as Array<{ component: string; reason: string; since: string }>;
      assert.deepEqual(reasons.map((r) => r.component), ['spool', 'cursors']);
      assert.match(reasons[1].reason, /cursors\.json\.corrupt-/);
      assert.ok(!Number.isNaN(Date.parse(reasons[0].since)));
      assert.deepEqual(h.body.queue, { documents: 0 }, 'the sink\'s details are still there');
      assert.equal((await t.snapshot()).dockward_degraded_components, 2);

      t.health.clear('spool');
      t.health.clear('cursors');
      sink = { status: 'degraded', details: { last_error: { at: '2025-01-01T00:00:00.000Z', reason: 'connect ECONNREFUSED' } } };
      h = await get(port);
      assert.equal(h.status, 503);
      assert.deepEqual(h.body.reasons, [{ component: 'sink', reason: 'connect ECONNREFUSED', since: '2025-01-01T00:00:00.000Z' }]);

      sink = { status: 'ok', details: {} };
      assert.equal((await get(port)).status, 200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
