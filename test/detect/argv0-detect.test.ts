import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';

type Alert = { rule: { id: string }; process?: { name?: string; title?: string } };
type ProcDoc = { event: { provider: string; type: string[] }; process: { name: string; title?: string; executable?: string; command_line?: string; args?: string[] }; dockward: { process: { argv0_mismatch?: boolean } } };

/**
 * Review H3 on the real kernel: bash's `exec -a` runs a program under another argv[0]. The kernel
 * collector still names it by the program (comm, /proc/<pid>/exe), the rules keyed on it fire, and
 * the spoof is an alert of its own. The script travels base64-encoded so the container's own
 * command line names none of it.
 */
const SCRIPT = [
  'sleep 2',
  '(exec -a nginx nc -l 127.0.0.1 4444 >/dev/null &)',
  'cp /bin/sleep /tmp/.x',
  '(exec -a sh /tmp/.x 300 &)',
  'sleep 300',
].join('\n');

describe('argv[0] spoofed in a container (exec -a), kernel process events', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('argv');
  // dockward-net-tool is a building block (class: signal): it lands beside the alerts, in the signal stream.
  const findings = `logs-dockward.alert-${ns},logs-dockward.signal-${ns}`;
  let dw: DockwardProcess;

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: ['collectors.kernel.enabled=true', 'collectors.processes.enabled=false', 'collectors.exec.enabled=false', 'collectors.drift.enabled=false', 'detect.window=1h'],
    });
    await dw.waitFor(/kernel process events: subscribed/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('exec -a nginx nc and exec -a sh /tmp/.x: net-tool, exec-from-tmp and the masquerade; the documents keep argv[0] as the title', async () => {
    const b64 = Buffer.from(SCRIPT).toString('base64');
    const { id } = await runContainer(docker, { name: `${ns}-spoof`, image: LAB, cmd: ['bash', '-c', `echo ${b64} | base64 -d > /tmp/a.sh; exec bash /tmp/a.sh`] });
    const want = ['dockward-net-tool', 'dockward-exec-from-tmp', 'dockward-argv0-masquerade'];
    const end = Date.now() + 40_000;
    let alerts: Alert[] = [];
    let flagged: ProcDoc[] = [];
    while (Date.now() < end) {
      alerts = await fetchAll<Alert>(es, findings, { term: { 'container.id': id } }).catch(() => []);
      // Searchable: the flag is mapped (the templates are dynamic: false).
      flagged = await fetchAll<ProcDoc>(es, `logs-dockward.process-${ns}`, { bool: { filter: [{ term: { 'container.id': id } }, { term: { 'dockward.process.argv0_mismatch': true } }, { term: { 'event.type': 'start' } }] } }).catch(() => []);
      if (want.every((r) => alerts.some((a) => a.rule.id === r)) && flagged.length >= 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(want.filter((r) => !alerts.some((a) => a.rule.id === r)), [], `missing alerts; got ${alerts.map((a) => a.rule.id)}\n${dw.log.slice(-2000)}`);
    const nc = flagged.find((d) => d.process.name === 'nc');
    assert.ok(nc, `an nc start flagged; got ${JSON.stringify(flagged.map((d) => d.process))}`);
    assert.equal(nc.event.provider, 'kernel');
    assert.equal(nc.process.title, 'nginx');
    assert.equal(nc.process.args?.[0], 'nginx');
    assert.match(nc.process.executable ?? '', /\/nc\.openbsd$/, 'the file the kernel ran');
    assert.equal(nc.process.command_line, 'nc -l 127.0.0.1 4444');
    const x = flagged.find((d) => d.process.executable === '/tmp/.x');
    assert.ok(x, `the /tmp/.x start flagged; got ${JSON.stringify(flagged.map((d) => d.process))}`);
    assert.deepEqual([x.process.name, x.process.title, x.process.command_line], ['.x', 'sh', '/tmp/.x 300']);
    const tool = alerts.find((a) => a.rule.id === 'dockward-net-tool')!;
    assert.equal(tool.process?.name, 'nc');
  });
});

describe('argv[0] spoofed in a container (exec -a), top polling alone', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('argvp');
  const findings = `logs-dockward.alert-${ns},logs-dockward.signal-${ns}`;
  let dw: DockwardProcess;

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: ['collectors.kernel.enabled=false', 'collectors.processes.schedule=* * * * * *', 'collectors.processes.stagger=100ms', 'collectors.exec.enabled=false', 'collectors.drift.enabled=false', 'detect.window=1h'],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('ps\'s comm names nc, /proc its file; argv[0] "nginx" is the title and a masquerade', async () => {
    // Started after the container's first snapshot (judged by polling only then), as a child of the shell.
    const { id } = await runContainer(docker, { name: `${ns}-spoof`, image: LAB, cmd: ['bash', '-c', 'sleep 3; (exec -a nginx nc -l 127.0.0.1 4444 >/dev/null &); sleep 300'] });
    const end = Date.now() + 40_000;
    let alerts: Alert[] = [];
    let nc: ProcDoc | undefined;
    while (Date.now() < end) {
      alerts = await fetchAll<Alert>(es, findings, { term: { 'container.id': id } }).catch(() => []);
      nc = (await fetchAll<ProcDoc>(es, `logs-dockward.process-${ns}`, { term: { 'container.id': id } }).catch(() => [])).find((d) => d.process.name === 'nc');
      if (nc && ['dockward-net-tool', 'dockward-argv0-masquerade'].every((r) => alerts.some((a) => a.rule.id === r))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(nc, `an nc document; alerts ${alerts.map((a) => a.rule.id)}\n${dw.log.slice(-1500)}`);
    assert.equal(nc.event.provider, 'poll');
    assert.deepEqual([nc.process.title, nc.process.command_line, nc.dockward.process.argv0_mismatch], ['nginx', 'nc -l 127.0.0.1 4444', true]);
    assert.match(nc.process.executable ?? '', /\/nc\.openbsd$/, 'from /proc (dockward sees the host\'s pids here), not from argv[0]');
    assert.deepEqual(['dockward-net-tool', 'dockward-argv0-masquerade'].filter((r) => !alerts.some((a) => a.rule.id === r)), []);
  });
});
