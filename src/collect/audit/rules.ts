import {
  AUDIT_ADD_RULE, AUDIT_ALWAYS, AUDIT_DEL_RULE, AUDIT_FAIL_PANIC, AUDIT_FILTER_EXIT, AUDIT_GET, AUDIT_LIST_RULES, AUDIT_LOCKED,
  AUDIT_SET, AuditProtocolError, EXEC_ABIS, decodeRule, encodeRule, parseStatus, ruleBytes, setEnabledPayload, type AuditStatus, type ExitRule,
} from './protocol';
import type { AuditSocket } from './socket';
import { DockwardError } from '../../errors';
import { running } from '../kernel/procfs';

/** Every rule dockward adds is keyed `dockward:<pid>`: recognisable, and one instance's own. */
export const KEY_PREFIX = 'dockward:';

export class AuditUnavailableError extends DockwardError {
  constructor(message: string) {
    super('AUDIT_UNAVAILABLE', message);
  }
}

export async function status(c: AuditSocket): Promise<AuditStatus> {
  const [m] = await c.exchange(AUDIT_GET);
  if (!m) throw new AuditProtocolError('no audit status in the answer');
  return parseStatus(m.payload);
}

async function list(c: AuditSocket): Promise<Array<{ rule: ExitRule; bytes: Buffer }>> {
  const out: Array<{ rule: ExitRule; bytes: Buffer }> = [];
  for (const m of await c.exchange(AUDIT_LIST_RULES)) {
    const rule = decodeRule(m.payload);
    if (rule) out.push({ rule, bytes: ruleBytes(m.payload) });
  }
  return out;
}

/** Does this rule already make the kernel report every exec of the ABI (auditd's `-S execve`, say)? */
export function covers(r: ExitRule, abi: { arch: number; syscalls: number[] }): boolean {
  return r.list === AUDIT_FILTER_EXIT && r.action === AUDIT_ALWAYS && r.otherFields === 0 && r.arch === abi.arch
    && abi.syscalls.every((s) => r.syscalls.includes(s));
}

/**
 * A rule of another dockward that is running: no cover, since it goes at that one's stop (and
 * the kernel sends one record per exec however many rules match, so both rules cost nothing).
 */
function otherDockward(r: ExitRule): boolean {
  return r.key?.startsWith(KEY_PREFIX) === true && r.key !== `${KEY_PREFIX}${process.pid}`;
}

/** A rule of a dockward process that is gone (killed before it could remove it). */
export function stale(r: ExitRule, alive: (pid: number) => boolean = running): boolean {
  if (!r.key?.startsWith(KEY_PREFIX)) return false;
  const pid = Number(r.key.slice(KEY_PREFIX.length));
  return Number.isInteger(pid) && pid !== process.pid && !alive(pid);
}

export interface Installed {
  /** The rules this process added (their bytes, as AUDIT_DEL_RULE wants them back). */
  added: Buffer[];
  /** ABIs another rule covers already: left alone, not added. */
  coveredBy: string[];
  /** Syscall auditing was off and this process turned it on (turned off again at stop). */
  enabledHere: boolean;
  staleRemoved: number;
  status: AuditStatus;
}

/**
 * Makes the kernel report every execve/execveat, changing as little as it can: refuses where audit
 * is locked or a lost record would panic the host (failure mode 2: the extra records dockward asks
 * for could fill auditd's backlog), removes rules a killed dockward left behind, adds its own rule
 * pair only for the ABIs no rule covers yet, and turns syscall auditing on only if it was off.
 */
export async function install(c: AuditSocket): Promise<Installed> {
  const st = await status(c);
  if (st.enabled === AUDIT_LOCKED) throw new AuditUnavailableError('audit rules are locked until reboot (audit enabled=2)');
  if (st.failure === AUDIT_FAIL_PANIC) throw new AuditUnavailableError('the audit failure mode is panic (-f 2): a lost record would halt the host');
  let staleRemoved = 0;
  const rules = await list(c);
  for (const r of rules) {
    if (!stale(r.rule)) continue;
    await c.exchange(AUDIT_DEL_RULE, r.bytes);
    staleRemoved++;
  }
  const added: Buffer[] = [];
  const coveredBy = EXEC_ABIS.filter((abi) => rules.some((r) => !stale(r.rule) && !otherDockward(r.rule) && covers(r.rule, abi))).map((a) => a.name);
  try {
    await addUncovered(c, rules.filter((r) => !stale(r.rule)).map((r) => r.rule), added);
    // A SIGKILLed dockward could not turn auditing off again: with its rules the only ones and no
    // daemon, that is taken over (off again at this one's stop).
    const inherited = staleRemoved > 0 && st.enabled === 1 && st.pid === 0 && rules.every((r) => stale(r.rule));
    const enabledHere = st.enabled === 0 || inherited;
    if (st.enabled === 0) await c.exchange(AUDIT_SET, setEnabledPayload(1));
    return { added, coveredBy, enabledHere, staleRemoved, status: st };
  } catch (err) {
    await remove(c, { added, enabledHere: false }).catch(() => undefined);
    throw err;
  }
}

/** Adds this process's rule for each ABI none of `rules` covers; returns how many it added. */
async function addUncovered(c: AuditSocket, rules: ExitRule[], added: Buffer[]): Promise<number> {
  let n = 0;
  for (const abi of EXEC_ABIS) {
    if (rules.some((r) => covers(r, abi) && !otherDockward(r))) continue;
    const bytes = encodeRule({ arch: abi.arch, syscalls: abi.syscalls, key: `${KEY_PREFIX}${process.pid}` });
    await c.exchange(AUDIT_ADD_RULE, bytes);
    added.push(bytes);
    n++;
  }
  return n;
}

/**
 * Puts back what went missing since: auditd's start-up (`auditctl -D`) removes every rule, and a
 * rule of auditd's that covered an ABI may be gone. Returns how many rules it added.
 */
export async function restore(c: AuditSocket, i: Installed): Promise<number> {
  return addUncovered(c, (await list(c)).map((r) => r.rule), i.added);
}

/**
 * Removes this process's rules; turns syscall auditing off again only if it turned it on and no
 * audit daemon has registered since and no rule (another dockward's, anyone's) remains.
 */
export async function remove(c: AuditSocket, i: Pick<Installed, 'added' | 'enabledHere'>): Promise<void> {
  for (const bytes of i.added) {
    await c.exchange(AUDIT_DEL_RULE, bytes).catch((err: AuditProtocolError) => {
      if (err.errno !== 2) throw err; // ENOENT: removed by someone else already
    });
  }
  if (!i.enabledHere) return;
  const st = await status(c);
  // Another dockward's rules, or anyone's: they need auditing on.
  const others = (await list(c)).length > 0;
  if (st.pid === 0 && !others && st.enabled === 1) await c.exchange(AUDIT_SET, setEnabledPayload(0));
}

const CAP_AUDIT_CONTROL = 30n;
const CAP_AUDIT_READ = 37n;

/** Why audit cannot run here (cheap: capabilities only), or undefined; the rules are the final test. */
export function auditBlocker(status: string): string | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const eff = m ? BigInt(`0x${m[1]}`) : 0n;
  const lacks = [[CAP_AUDIT_CONTROL, 'CAP_AUDIT_CONTROL'], [CAP_AUDIT_READ, 'CAP_AUDIT_READ']].filter(([bit]) => ((eff >> (bit as bigint)) & 1n) === 0n).map(([, n]) => n);
  return lacks.length ? `no ${lacks.join(' and ')}` : undefined;
}
