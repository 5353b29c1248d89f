import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';
import { AuditSocket } from '../../src/collect/audit/socket';
import { AUDIT_LIST_RULES, decodeRule } from '../../src/collect/audit/protocol';
import { status } from '../../src/collect/audit/rules';
import { processTree } from '../support/proc-tree';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function auditEnabled(): Promise<number> {
  const c = new AuditSocket('control');
  try {
    return (await status(c)).enabled;
  } finally {
    c.close();
  }
}

/** The keys of the audit rules in the kernel now. */
async function ruleKeys(): Promise<string[]> {
  const c = new AuditSocket('control');
  try {
    return (await c.exchange(AUDIT_LIST_RULES)).map((m) => decodeRule(m.payload)?.key ?? '');
  } finally {
    c.close();
  }
}

/** The kernel reader process under a dockward (src/collect/kernel/reader.ts): it owns the audit rules. */
function readerOf(d: DockwardProcess): number {
  const [reader, ...more] = processTree(d.pid).slice(1);
  assert.ok(reader && more.length === 0, `one reader process under dockward ${d.pid}`);
  return reader;
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SETS = ['collectors.kernel.enabled=true', 'collectors.audit.enabled=true', 'collectors.kernel.documents_per_second=0'];

describe('audit exec events (real dockerd, real kernel audit)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('audit');
  const index = `logs-dockward.process-${ns}`;
  let dw: DockwardProcess;
  let enabledBefore = -1;
  /** Rules before the suite: only dockward's (a SIGKILLed one's) means the last stop turns auditing off. */
  let keysBefore: string[] = [];

  async function startsOf(id: string, isBurst: (d: Doc) => boolean, n: number): Promise<Doc[]> {
    const end = Date.now() + 180_000;
    for (;;) {
      const docs = await fetchAll<Doc>(es, index, { bool: { filter: [{ term: { 'container.id': id } }, { term: { 'event.type': 'start' } }, { term: { 'event.provider': 'kernel' } }] } }).catch(() => []);
      const burst = docs.filter(isBurst);
      if (burst.length >= n) return burst;
      if (Date.now() > end) throw new Error(`${burst.length} of ${n} burst starts; dockward's log:\n${dw.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  before(async () => {
    enabledBefore = await auditEnabled();
    keysBefore = await ruleKeys();
    dw = DockwardProcess.run({ namespace: ns, sets: SETS });
    await dw.waitFor(/kernel process events: subscribed/);
    await dw.waitFor(/audit exec events: reading the audit multicast group/);
  });
  after(async () => {
    await dw.kill('SIGTERM'); // a SIGKILL would leave its rules in the kernel until the next start
    await removeContainers(docker, ns);
    await es.close();
  });

  it('its rules are in the kernel, keyed with its reader process\'s pid', async () => {
    assert.ok((await ruleKeys()).includes(`dockward:${readerOf(dw)}`));
  });

  it('a second dockward beside it adds rules of its own: its stop leaves the first one auditing', async () => {
    const other = DockwardProcess.run({ namespace: `${ns}b`, sets: SETS });
    try {
      await other.waitFor(/audit exec events: reading/);
      const keys = await ruleKeys();
      assert.ok(keys.includes(`dockward:${readerOf(dw)}`) && keys.includes(`dockward:${readerOf(other)}`), `rules: ${keys.join(', ')}`);
      assert.match(other.log, /2 exec rules added/);
    } finally {
      await other.kill('SIGTERM');
    }
    assert.ok((await ruleKeys()).includes(`dockward:${readerOf(dw)}`));
    assert.equal(await auditEnabled(), 1, 'auditing stays on while a dockward needs it');
  });

  // Commands by path, so busybox's shell execs them; each lives a millisecond or less: the exit race's victims.
  for (const [image, n, script, expect] of [
    ['busybox', 300, 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); /bin/id >/dev/null; /bin/uname -a >/dev/null; /bin/cat /etc/hostname >/dev/null; /bin/echo "burst $i" >/dev/null; done', '/bin/busybox'],
    ['lab', 200, 'for i in $(/usr/bin/seq 200); do /usr/bin/id >/dev/null; /bin/uname -a >/dev/null; /bin/cat /etc/hostname >/dev/null; /bin/echo "burst $i" >/dev/null; done', undefined],
  ] as const) {
    it(`${image}: every exec of a burst of ${n * 4} short commands carries its argv, executable and directory from audit`, async () => {
      const { id } = await runContainer(docker, { name: `${ns}-${image}`, image: image === 'lab' ? LAB : undefined, cmd: ['sh', '-c', `sleep 1; ${script}; sleep 300`] });
      const argvs = new Set(['/bin/id', '/usr/bin/id', '/bin/uname -a', '/bin/cat /etc/hostname']);
      const isBurst = (d: Doc) => argvs.has(d.process.args?.join(' ')) || /^\/bin\/echo burst \d+$/.test(d.process.args?.join(' ') ?? '')
        || (d.dockward?.process?.exit_race === true && !/^(sh|sleep|seq)$/.test(d.process.name ?? ''));
      const starts = await startsOf(id, isBurst, n * 4);
      const raced = starts.filter((d) => !d.process.args);
      assert.deepEqual(raced.map((d) => d.process.pid), [], 'execs without argv');
      assert.equal(starts.length, n * 4);
      assert.deepEqual(starts.filter((d) => d.dockward.process.source !== 'audit').map((d) => d.process.args), []);
      const echoes = starts.filter((d) => d.process.args[0] === '/bin/echo').map((d) => Number(d.process.args[1].split(' ')[1])).sort((a, b) => a - b);
      assert.deepEqual(echoes, Array.from({ length: n }, (_, i) => i + 1));
      for (const d of starts) {
        assert.equal(d.process.working_directory, '/');
        assert.equal(d.process.user.id, '0');
        if (expect) assert.equal(d.process.executable, expect);
        else assert.match(d.process.executable, /^\/usr\/bin\/(id|uname|cat|echo)$/);
        assert.equal(d.process.parent.pid > 0, true);
      }
    });
  }

  it('SIGTERM removes its rules, and so does a SIGKILL of dockward alone (its reader sees it go); a SIGKILLed reader\'s rules are removed by the next start', async () => {
    const pid = readerOf(dw);
    await dw.kill('SIGTERM');
    assert.equal((await ruleKeys()).includes(`dockward:${pid}`), false);
    const orphaned = DockwardProcess.run({ namespace: ns, sets: SETS });
    await orphaned.waitFor(/audit exec events: reading/);
    const opid = readerOf(orphaned);
    assert.ok((await ruleKeys()).includes(`dockward:${opid}`));
    await orphaned.kill('SIGKILL');
    await until(`the reader ${opid} removed its rules once dockward was gone`, async () => !(await ruleKeys()).includes(`dockward:${opid}`));
    const killed = DockwardProcess.run({ namespace: ns, sets: SETS });
    try {
      await killed.waitFor(/audit exec events: reading/);
      const kpid = readerOf(killed);
      assert.ok((await ruleKeys()).includes(`dockward:${kpid}`));
      // Reader first, then dockward: nobody is left to remove them.
      process.kill(kpid, 'SIGKILL');
      await killed.kill('SIGKILL');
      assert.ok((await ruleKeys()).includes(`dockward:${kpid}`), 'SIGKILL cannot remove them');
      dw = DockwardProcess.run({ namespace: ns, sets: SETS });
      await dw.waitFor(/audit exec events: reading/); // its start removed the rules of the pid that is gone
      assert.equal((await ruleKeys()).includes(`dockward:${kpid}`), false);
      // It took over from the SIGKILLed one: at its stop auditing is as before the suite (when nobody else has rules).
      const last = readerOf(dw);
      await dw.kill('SIGTERM');
      assert.equal((await ruleKeys()).includes(`dockward:${last}`), false);
      // Stopped just after its start, with its first log follows still in flight (they once held stop for 297 s).
      assert.doesNotMatch(dw.log, /had not stopped|failed to stop/);
      const onlyDockward = keysBefore.length > 0 && keysBefore.every((k) => k.startsWith('dockward:'));
      if ((await ruleKeys()).length === 0) assert.equal(await auditEnabled(), onlyDockward ? 0 : enabledBefore);
    } finally {
      await killed.kill();
    }
  });
});
