import { readFileSync } from 'node:fs';
import { kernelEventsBlocker } from '../kernel/netlink';
import { AUDIT_FAIL_PANIC, AUDIT_LOCKED } from './protocol';
import { auditBlocker, status } from './rules';
import { AuditSocket } from './socket';

/** Why audit exec events cannot run here, from a status read (no rule is added), or undefined. */
async function probe(): Promise<{ why?: string; daemon?: number }> {
  const blocker = kernelEventsBlocker() ?? auditBlocker(readFileSync('/proc/self/status', 'latin1'));
  if (blocker) return { why: blocker };
  let c: AuditSocket | undefined;
  try {
    c = new AuditSocket('control');
    const st = await status(c);
    if (st.enabled === AUDIT_LOCKED) return { why: 'audit rules are locked until reboot (audit enabled=2)' };
    if (st.failure === AUDIT_FAIL_PANIC) return { why: 'the audit failure mode is panic (-f 2)' };
    return { daemon: st.pid };
  } catch (err) {
    return { why: (err as Error).message };
  } finally {
    c?.close();
  }
}

/** `dockward check`'s line about audit exec events; only `true` calls a failed probe a problem. */
export async function auditCheckLine(cfg: { enabled: boolean | 'auto' }, kernel: { enabled: boolean | 'auto' }): Promise<string> {
  if (cfg.enabled === false) return 'audit exec events disabled (collectors.audit.enabled: false); exec command lines come from /proc';
  const { why, daemon } = kernel.enabled === false ? { why: 'kernel process events are disabled', daemon: undefined } : await probe();
  if (!why) return `audit exec events ok (${daemon ? `audit daemon pid ${daemon} registered; dockward reads the multicast group beside it` : 'no audit daemon registered: dockward reads the multicast group'}${cfg.enabled === 'auto' ? '; collectors.audit.enabled: auto' : ''})`;
  return cfg.enabled === true
    ? `audit exec events UNAVAILABLE although collectors.audit.enabled is true: ${why}; exec command lines come from /proc`
    : `audit exec events off: ${why}; exec command lines come from /proc (collectors.audit.enabled: auto)`;
}
