import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newNamespace } from '../support/engines';
import { DockwardProcess } from '../support/dockward';

/** A webhook receiver on 127.0.0.1 (the real one, Slack or a SOC endpoint, is not reachable here). */
async function receiver(status: number): Promise<{ url: string; bodies: unknown[]; close: () => void }> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.writeHead(status).end(status === 200 ? 'ok' : 'denied');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, close: () => server.close() };
}

function config(url: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockward-notify-'));
  const file = join(dir, 'dockward.yml');
  writeFileSync(file, ['notify:', '  destinations:', '    soc:', '      type: webhook', `      url: ${url}`, '  routes:', '    all:', '      destinations: [soc]', ''].join('\n'));
  return file;
}

describe('dockward notify test', () => {
  it('sends one sample alert through the route and says the destination accepted it', async () => {
    const r = await receiver(200);
    try {
      const p = DockwardProcess.run({ namespace: newNamespace(), command: ['notify', 'test', 'all', '--config', config(r.url)] });
      assert.equal(await p.wait(), 0, p.log);
      assert.match(p.log, /soc: accepted after 1 attempt/);
      assert.equal(r.bodies.length, 1);
      assert.equal((r.bodies[0] as { rule: { id: string } }).rule.id, 'dockward-reverse-shell-nc');
    } finally {
      r.close();
    }
  });

  it('exits 1 naming the refusal, and names an unknown route', async () => {
    const r = await receiver(403);
    try {
      const p = DockwardProcess.run({ namespace: newNamespace(), command: ['notify', 'test', 'all', '--config', config(r.url)] });
      assert.equal(await p.wait(), 1, p.log);
      assert.match(p.log, /soc: FAILED after 1 attempt\(s\)\n  error 403/);
      const q = DockwardProcess.run({ namespace: newNamespace(), command: ['notify', 'test', 'nope', '--config', config(r.url)] });
      assert.equal(await q.wait(), 1, q.log);
      assert.match(q.log, /no route "nope" \(routes: all\)/);
    } finally {
      r.close();
    }
  });
});
