import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, engines, newNamespace } from '../support/engines';

/**
 * `npm run demo`'s program (demo/main.ts) on the real engines, short: the story it must tell is
 * on its output. Alerts need only the attack container's first seconds; the summary is read
 * from Elasticsearch after dockward stopped.
 */
describe('the demo: an attack caught, explained, notified and answered (real dockerd and Elasticsearch)', () => {
  it('prints alerts with their techniques, the webhook messages, a dry-run response, posture failures and the summary, and exits 0', { timeout: 300_000 }, async () => {
    const { dockerHost, esUrl } = engines();
    const ns = newNamespace('demo');
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'demo', 'main.js')], {
      env: { ...process.env, DEMO_SECONDS: '40', DEMO_NAMESPACE: ns, DOCKER_HOST: dockerHost, DWTEST_ES_URL: esUrl, DOCKWARD_CACHE: process.env.DOCKWARD_CACHE ?? join(homedir(), '.cache', 'dockward') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const where = `\n--- stdout ---\n${out.slice(-6000)}\n--- stderr ---\n${err.slice(-3000)}`;
    assert.equal(code, 0, `the demo exits 0${where}`);
    // One line per alert: container, severity, rule and its ATT&CK technique, then what matched.
    assert.match(out, new RegExp(`ALERT \\d\\d:\\d\\d:\\d\\d  ${ns}-attack +\\w+ +dockward-reverse-shell-dev-tcp  \\[T1059\\.004 Unix Shell\\]`), `the reverse shell alert${where}`);
    assert.match(out, new RegExp(`ALERT .* ${ns}-attack .* dockward-miner-process  \\[T1496`), `the miner alert${where}`);
    assert.match(out, new RegExp(`ALERT .* ${ns}-misconfigured .* \\[T1611 Escape to Host\\]`), `the misconfigured container's alert${where}`);
    assert.match(out, new RegExp(`WEBHOOK \\w+( ×\\d+)?: dockward-[a-z0-9-]+ on ${ns}-`), `a webhook message as the receiver got it${where}`);
    assert.match(out, /RESPONSE .*would pause/, `the dry-run response decision${where}`);
    assert.match(out, /== posture: failed CIS checks by severity ==\n(.*\n)*? {2}critical +\d+ findings, e\.g\. .*5\.(16|32)/, `the misconfigured container's critical posture failures${where}`);
    assert.match(out, /== delivery \(dockward_documents_total by outcome\) ==\n {2}acked [1-9]\d*, duplicate \d+, dead_lettered 0, dropped 0; retries \d+/, `delivery outcomes${where}`);
    assert.match(out, /== detection latency [^\n]*==\n {2}dockward-[a-z0-9-]+ +\d+\.\d s/, `detection latency per alert${where}`);
    assert.match(out, new RegExp(`logs-dockward\\.alert-${ns} +[1-9]`), `documents per stream${where}`);
  });
});
