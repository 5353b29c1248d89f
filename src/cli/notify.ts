import { Notifier } from '../notify/notifier';
import { loadOrExit, telemetryFor, type GlobalOptions } from './common';

/**
 * `dockward notify test <route>`: sends a sample alert through every destination of one route now,
 * with the route's retries, and prints each attempt — the way to check a webhook URL, a Slack
 * channel or SMTP credentials before an incident does. Exit 1 when a destination did not accept.
 */
export async function notifyTestCommand(route: string, opts: GlobalOptions): Promise<void> {
  const cfg = loadOrExit(opts);
  const notifier = new Notifier({ ...cfg.notify, enabled: true }, telemetryFor(cfg));
  const sample = {
    '@timestamp': new Date().toISOString(),
    message: 'dockward test notification: Netcat reverse or bind shell in demo-container',
    event: { kind: 'alert', severity: 99, risk_score: 99 },
    rule: { id: 'dockward-reverse-shell-nc', name: 'Netcat reverse or bind shell (test)' },
    threat: { framework: 'MITRE ATT&CK', tactic: { id: ['TA0002'], name: ['Execution'] }, technique: { id: ['T1059'], name: ['Command and Scripting Interpreter'] } },
    container: { id: '0'.repeat(64), name: 'demo-container', image: { name: 'demo:latest' } },
    host: { name: 'dockward-test' },
    dockward: { alert: { group_id: 'test', count: 1, severity: 'critical' } },
  };
  let failed = false;
  try {
    for (const { destination, attempts } of await notifier.test(route, sample)) {
      const last = attempts[attempts.length - 1];
      failed ||= !last?.ok;
      process.stdout.write(`${destination}: ${last?.ok ? 'accepted' : 'FAILED'} after ${attempts.length} attempt(s)\n`);
      for (const a of attempts) process.stdout.write(`  ${a.ok ? 'ok' : 'error'}${a.status ? ` ${a.status}` : ''}: ${a.detail}\n`);
    }
  } catch (err) {
    process.stderr.write(`dockward: ${(err as Error).message}\n`);
    failed = true;
  } finally {
    await notifier.stop();
  }
  if (failed) process.exitCode = 1;
}
