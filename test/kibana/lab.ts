import type { Client } from '@elastic/elasticsearch';
import winston from 'winston';
import { ElasticsearchSink, sinkConfig } from '../../src/ship/elasticsearch-sink';
import { BoundedQueue } from '../../src/ship/queue';
import { Telemetry } from '../../src/telemetry/telemetry';
import { execIn, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { waitForCount } from '../support/elasticsearch';
import { LAB, engines, newNamespace } from '../support/engines';

/** Lines a web server and a JSON-logging service print: the benign workload both runs carry. */
const BENIGN = [
  '127.0.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET /index.html?lang=en HTTP/1.1" 200 512 "-" "curl/8.5.0"',
  '127.0.0.1 - alice [28/Nov/2026:10:00:01 +0000] "POST /api/items HTTP/1.1" 201 34',
  '{"level":"INFO","msg":"request served","path":"/health"}',
  'plain line from the worker',
];
const benignCmd = (n: number) => ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do ${BENIGN.map((l) => `echo '${l}'`).join('; ')}; i=$((i+1)); sleep 0.2; done; sleep 600`];

const FAST = [
  'collectors.processes.schedule=* * * * * *', 'collectors.processes.stagger=100ms',
  'collectors.stats.schedule=* * * * * *', 'collectors.stats.stagger=100ms',
  'collectors.drift.schedule=*/2 * * * * *',
  'heartbeat.interval=1s', 'detect.window=4s',
];

export interface Lab {
  attack: string;
  benign: string;
  /** Stops the attack run (its heartbeats stop) and leaves the benign one beating. */
  stopAttack(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Two real dockward runs over real containers. Attack: nmap output and a scan, a privileged
 * container, exec sessions that drop a file, plus a document Elasticsearch refuses (through the real
 * sink) for the dead-letter stream. Benign: the same web/JSON workload, no exec, nothing privileged;
 * collectors that judge every container on the engine (config rules, processes, posture) are off
 * there, since other tests' containers would otherwise raise alerts in it.
 */
export async function startLab(es: Client): Promise<Lab> {
  const { docker } = engines();
  const attack = newNamespace('kba');
  const benign = newNamespace('kbb');
  const a = DockwardProcess.run({ namespace: attack, sets: FAST });
  const b = DockwardProcess.run({
    namespace: benign,
    sets: [...FAST, ...['processes', 'exec', 'drift', 'posture', 'kernel', 'connections', 'config'].map((c) => `collectors.${c}.enabled=false`)],
  });
  await Promise.all([a.waitFor(/dockward running/), b.waitFor(/dockward running/)]);

  await runContainer(docker, { name: `${benign}-web`, cmd: benignCmd(100) });
  await runContainer(docker, { name: `${attack}-web`, cmd: benignCmd(100) });
  const scan = await runContainer(docker, {
    name: `${attack}-scan`, image: LAB,
    cmd: ['sh', '-c', 'sleep 1; for i in $(seq 1 12); do echo "Nmap scan report for 127.0.0.1"; done; nmap -sT -p 1-200 --max-rate 400 127.0.0.1; sleep 600'],
  });
  await runContainer(docker, { name: `${attack}-hostpid`, cmd: ['sleep', '600'], hostConfig: { PidMode: 'host' } });
  await new Promise((r) => setTimeout(r, 1500));
  await execIn(docker, scan.id, ['sh', '-c', 'id; echo "#!/bin/sh" > /tmp/dropped; chmod +x /tmp/dropped; /tmp/dropped']);
  await execIn(docker, scan.id, ['sh', '-c', 'exit 0'], { tty: true, user: '65534' });

  // A document Elasticsearch refuses, through the same sink dockward uses.
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  const queue = new BoundedQueue(10, 1 << 20);
  const sink = new ElasticsearchSink(es, queue, sinkConfig.parse({ flush_interval: '50ms' }), attack, telemetry);
  sink.start();
  queue.push({ index: `logs-dockward.container-${attack}`, id: 'refused', doc: { '@timestamp': 'not a date', message: 'unmappable' }, ack: { done: () => undefined } });

  const wait = async (ns: string, ds: string, n: number, proc: DockwardProcess, query?: object) => {
    const got = await waitForCount(es, `${ds}-${ns}`, n, 60_000, query, proc.alive);
    if (got < n) throw new Error(`${ds}-${ns}: ${got} of ${n} documents\n${proc.log.slice(-2000)}`);
  };
  await Promise.all([
    // A summary (count > 1) follows the first scan-output alert once the 4 s window closes.
    wait(attack, 'logs-dockward.alert', 1, a, { bool: { filter: [{ term: { 'rule.id': 'dockward-scan-output' } }, { range: { 'dockward.alert.count': { gt: 1 } } }] } }),
    wait(attack, 'logs-dockward.alert', 1, a, { term: { 'container.name': `${attack}-hostpid` } }),
    // Alert triage's building-block panels: the scan container's signals (nmap is a network tool,
    // chmod +x in /tmp, the tty exec) and the risk alert they add up to with its alerts.
    wait(attack, 'logs-dockward.signal', 1, a, { term: { 'container.name': `${attack}-scan` } }),
    wait(attack, 'logs-dockward.alert', 1, a, { term: { 'rule.id': 'dockward-risk-threshold' } }),
    wait(attack, 'logs-dockward.process', 2, a, { term: { 'event.provider': 'exec' } }),
    // A process start seen by the host: the kernel's where it runs (it then answers for processes
    // started after its subscription, so polling writes none for these containers), else polling's.
    wait(attack, 'logs-dockward.process', 1, a, { terms: { 'event.provider': ['kernel', 'poll'] } }),
    wait(attack, 'logs-dockward.file', 1, a, { term: { 'file.path': '/tmp/dropped' } }),
    wait(attack, 'metrics-dockward.stats', 5, a),
    wait(attack, 'logs-dockward.config', 2, a),
    wait(attack, 'logs-dockward.deadletter', 1, a),
    wait(attack, 'logs-dockward.internal', 3, a, { term: { 'event.action': 'heartbeat' } }),
    // Shipper health: beats that counted lines read and documents acked (dockward.shipper.*).
    wait(attack, 'logs-dockward.internal', 1, a, { range: { 'dockward.shipper.read.log_lines': { gt: 0 } } }),
    wait(attack, 'logs-dockward.internal', 1, a, { range: { 'dockward.shipper.output.acked': { gt: 0 } } }),
    // Resources: anomaly scores, written per stats interval from the first ones on (warm or not).
    wait(attack, 'metrics-dockward.anomaly', 2, a, { term: { 'container.name': `${attack}-web` } }),
    wait(attack, 'logs-dockward.container', 20, a),
    wait(benign, 'logs-dockward.container', 20, b),
    wait(benign, 'logs-dockward.internal', 3, b, { term: { 'event.action': 'heartbeat' } }),
    wait(benign, 'metrics-dockward.stats', 3, b),
  ]);
  await sink.stop();

  return {
    attack,
    benign,
    async stopAttack() {
      // SIGTERM: the last heartbeats and alerts are flushed before it stops.
      await a.kill('SIGTERM');
    },
    async close() {
      await Promise.all([a.kill(), b.kill()]);
      await removeContainers(docker, attack);
      await removeContainers(docker, benign);
    },
  };
}
