import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace, ROOT } from '../support/engines';
import { execIn, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';
import { processTree } from '../support/proc-tree';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let dwLog = (): string => '';

async function eventually<T>(what: string, find: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // A search right after the data stream is created may fail (no active shard yet): try again.
    const v = await find().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; dockward's log:\n${dwLog().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

// Commands run by path so busybox's shell really execs them (by name it runs most applets in a
// forked child without exec), each reading a little (1 to 30 ms), with the marker `arg` among their
// arguments. A command living only microseconds may exit before /proc is read: see docs/kernel-events.md.
const COMMANDS: Array<[(arg: string) => string[], number]> = [
  [(a) => ['/bin/grep', '-c', a, '/bin/busybox'], 1],
  [(a) => ['/bin/sha256sum', '/bin/busybox', a], 1],
  [(a) => ['/bin/grep', '-q', '-e', a, '-e', 'BusyBox', '/bin/busybox'], 0],
  [(a) => ['/bin/md5sum', '/bin/busybox', a], 1],
  [(a) => ['/bin/wc', '-c', '/bin/busybox', a], 1],
  [(a) => ['/bin/sha1sum', '/bin/busybox', a], 1],
  [(a) => ['/bin/grep', '-c', 'busybox', '/bin/busybox', a], 2],
  [(a) => ['/bin/grep', '-i', a, '/bin/busybox'], 1],
  [(a) => ['/bin/sha512sum', '/bin/busybox', a], 1],
  [(a) => ['/bin/grep', '-n', a, '/bin/busybox'], 1],
];

describe('kernel process events (real dockerd, real kernel)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kern');
  const index = `logs-dockward.process-${ns}`;
  let dw: DockwardProcess;
  const docsOf = (id: string) => fetchAll<Doc>(es, index, { term: { 'container.id': id } });

  before(async () => {
    dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.kernel.enabled=true', 'collectors.processes.schedule=* * * * * *', 'collectors.processes.stagger=100ms'] });
    dwLog = () => dw.log;
    await dw.waitFor(/dockward running/);
    await dw.waitFor(/kernel process events: subscribed/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('20 short-lived commands: exactly 20 start documents with command line, container and the shell as parent; ends with exit codes', async () => {
    const runs = Array.from({ length: 20 }, (_, i) => {
      const [argv, code] = COMMANDS[i % COMMANDS.length];
      const arg = `kw-${i + 1}-${ns}`;
      return { argv: argv(arg), code, arg };
    });
    const script = `sleep 1; ${runs.map((r) => `${r.argv.join(' ')} >/dev/null 2>&1`).join('; ')}; sleep 300; exit 0`;
    const { id } = await runContainer(docker, { name: `${ns}-twenty`, cmd: ['sh', '-c', script] });
    // Polling may catch one of them too: same ids, so whichever source came first holds the document.
    const isRun = (d: Doc) => d.event.provider !== 'exec' && !d.process.command_line?.startsWith('sh -c') && !/^sleep /.test(d.process.command_line ?? '');
    const docs = await eventually('20 starts and 20 ends', async () => {
      const d = (await docsOf(id)).filter(isRun);
      const all = await docsOf(id);
      const shell = all.some((x) => x.event.type[0] === 'start' && x.process.command_line?.startsWith('sh -c sleep 1;'));
      return shell && d.filter((x) => x.event.type[0] === 'end').length >= 20 && d.filter((x) => x.event.type[0] === 'start' && x.event.provider === 'kernel').length >= 20 ? all : undefined;
    });
    // Polling's own sightings (a child between fork and exec, a zombie as `[name] <defunct>`) have other ids.
    const starts = docs.filter((d) => isRun(d) && d.event.type[0] === 'start' && d.event.provider === 'kernel');
    assert.equal(starts.length, 20, starts.map((d) => d.process.command_line ?? `(exit race) pid ${d.process.pid}`).join('\n'));
    const shells = docs.filter((d) => d.event.type[0] === 'start' && d.process.command_line?.startsWith('sh -c sleep 1;'));
    assert.equal(shells.length, 1, `one start document for the shell, whatever saw it: ${JSON.stringify(shells.map((s) => s.event.provider))}`);
    const shell = shells[0];
    // On a loaded host a command of a few ms may still exit before its /proc is read: its start is
    // there all the same (pid, container, parent, exit code at its end), flagged exit_race.
    const raced = starts.filter((d) => d.dockward.process.exit_race);
    assert.ok(raced.length <= 2, `${raced.length} of 20 lost to the exit race`);
    for (const s of starts) {
      assert.equal(s.event.provider, 'kernel', 'the kernel saw the start first');
      assert.equal(s.container.id, id);
      assert.equal(s.container.name, `${ns}-twenty`);
      assert.equal(s.process.parent.pid, shell.process.pid, 'the shell is the parent');
      assert.match(s.process.parent.command_line, /^sh -c sleep 1;/);
      assert.equal(s.process.parent.vpid, 1, 'the shell is the container init');
      assert.equal(s.process.entry_leader.vpid, 1);
      const e = docs.find((d) => isRun(d) && d.event.type[0] === 'end' && d.process.pid === s.process.pid);
      assert.ok(e, `end of pid ${s.process.pid}`);
      if (e.event.provider === 'kernel') assert.ok(e.event.duration > 0 && e.event.duration < 1e9, `lived ${e.event.duration} ns (fork to exit, kernel time)`);
      assert.ok(new Date(e.process.end) >= new Date(s.process.start));
      if (s.dockward.process.exit_race) {
        assert.ok([0, 1, 2].includes(e.process.exit_code));
        continue;
      }
      if (e.event.provider !== 'kernel') continue; // polling's end has no exit code
      const r = runs.find((x) => s.process.args.includes(x.arg));
      assert.ok(r, `one of the 20: ${s.process.command_line}`);
      assert.equal(s.process.command_line, r.argv.join(' '));
      assert.deepEqual(s.process.args, r.argv);
      // The pid inside the container and the exact start (stat) are /proc's alone (audit records
      // name host pids): a command gone before /proc was read has its command line from audit, no
      // vpid, and its start from the fork's kernel time.
      const procRead = s.process.vpid !== undefined;
      if (!procRead) assert.equal(s.dockward.process.source, 'audit', 'only an audit-carried start lacks its vpid');
      else {
        assert.ok(s.process.vpid > 1 && s.process.vpid < 1000, `vpid ${s.process.vpid}`);
        assert.notEqual(s.process.vpid, s.process.pid);
        assert.equal(s.dockward.process.start_exact, true);
      }
      assert.equal(s.process.user.id, '0');
      assert.equal(s.process.user.name, 'root', 'uid named from the container /etc/passwd');
      assert.equal(s.process.working_directory, '/');
      assert.equal(e.process.exit_code, r.code, `exit code of ${r.argv.join(' ')}`);
    }
    const named = new Set(starts.filter((d) => !d.dockward.process.exit_race).map((d) => runs.find((x) => d.process.args.includes(x.arg))!.arg));
    assert.equal(named.size, 20 - raced.length, 'no command twice');
  });

  it('docker exec: the session shell and its children carry the exec id and the session leader', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-exec`, cmd: ['sleep', '300'] });
    const execId = await execIn(docker, id, ['sh', '-c', `/bin/grep -c ke-1-${ns} /bin/busybox; /bin/sha256sum /bin/busybox /ke-2-${ns}; /bin/grep -i ke-3-${ns} /bin/busybox; exit 0`]);
    const isShell = (d: Doc) => d.process.command_line?.startsWith('sh -c /bin/grep -c ke-1');
    const docs = await eventually('the session shell, its 3 children and the init', async () => {
      const all = await docsOf(id);
      const d = all.filter((x) => x.event.provider === 'kernel' && x.event.type[0] === 'start');
      const shell = d.find(isShell);
      const init = all.some((x) => x.process.command_line === 'sleep 300');
      return shell && init && d.filter((x) => x.process.parent?.pid === shell.process.pid).length >= 3 ? all.filter((x) => x.event.type[0] === 'start' && x.event.provider !== 'exec') : undefined;
    });
    const shell = docs.find(isShell)!;
    assert.equal(shell.dockward.exec?.id, execId);
    assert.equal(shell.process.entry_meta.type, 'exec');
    // Tied through the table even when a child exited before its /proc could be read.
    const children = docs.filter((d) => d.event.provider === 'kernel' && d.process.parent?.pid === shell.process.pid);
    assert.equal(children.length, 3, children.map((c) => c.process.command_line).join('\n'));
    for (const c of children) {
      assert.equal(c.dockward.exec?.id, execId, `${c.process.command_line} tied to the exec`);
      assert.equal(c.process.entry_leader.pid, shell.process.pid);
      if (!c.dockward.process.exit_race) assert.ok(c.process.args.some((a: string) => /^\/?ke-\d/.test(a)), c.process.command_line);
    }
    const init = docs.find((d) => d.process.command_line === 'sleep 300');
    assert.ok(init, 'the container init (its exec, or a poll: same id)');
    assert.equal(init.dockward.exec, undefined);
  });

  it('busybox applets called by name (re-exec or no exec at all) are seen by their name', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-noexec`, cmd: ['sh', '-c', 'sleep 1; cat /bin/busybox /bin/busybox /bin/busybox >/dev/null; sleep 300; exit 0'] });
    const cat = await eventually('cat', async () => (await docsOf(id)).find((d) => d.event.provider === 'kernel' && d.event.type[0] === 'start' && (d.process.name === 'cat' || d.dockward.process.exit_race)));
    // busybox either re-execs itself through /proc/self/exe (an exec: the full command line) or runs
    // the applet in the forked shell (no exec: only the name, from the kernel's comm event).
    if (cat.dockward.process.noexec) assert.equal(cat.process.command_line, undefined, 'the parent\'s copied command line is not claimed');
    else if (!cat.dockward.process.exit_race) assert.equal(cat.process.command_line, 'cat /bin/busybox /bin/busybox /bin/busybox');
    // Lost to the exit race, it is still accounted for: the container and the shell that ran it.
    assert.equal(cat.container.id, id);
    assert.equal(cat.process.parent.vpid, 1);
  });

  it('dockward check says whether kernel events can run, in one line', () => {
    const main = join(ROOT, 'dist/src/cli/main.js');
    const asRoot = execFileSync(process.execPath, [main, 'check', '--offline', '-E', 'collectors.kernel.enabled=true'], { encoding: 'utf8' });
    assert.match(asRoot, /^kernel process events ok/m);
    // Default (auto): on where it can run, one plain line where it cannot.
    const byDefault = execFileSync(process.execPath, [main, 'check', '--offline'], { encoding: 'utf8' });
    assert.match(byDefault, /^kernel process events ok \(.*collectors\.kernel\.enabled: auto\)$/m);
    const autoInUserNs = execFileSync('unshare', ['-U', '-r', process.execPath, main, 'check', '--offline'], { encoding: 'utf8' });
    assert.match(autoInUserNs, /^kernel process events off: inside a user namespace .*top polling only \(collectors\.kernel\.enabled: auto\)$/m);
    // Asked for (true) and unavailable: said loudly.
    const inUserNs = execFileSync('unshare', ['-U', '-r', process.execPath, main, 'check', '--offline', '-E', 'collectors.kernel.enabled=true'], { encoding: 'utf8' });
    assert.match(inUserNs, /^kernel process events UNAVAILABLE although collectors\.kernel\.enabled is true: inside a user namespace .*top polling only$/m);
    const off = execFileSync(process.execPath, [main, 'check', '--offline', '-E', 'collectors.kernel.enabled=false'], { encoding: 'utf8' });
    assert.match(off, /^kernel process events disabled/m);
    for (const out of [byDefault, autoInUserNs, inUserNs, off]) assert.equal(out.split('\n').filter((l) => l.startsWith('kernel process events')).length, 1, out);
  });

  // Last: it kills the reader of the dockward every test above shares.
  it('the reader process dies (the netlink addon aborts on a socket error): dockward stays up, says so, restarts it, and execs after the restart are documented', async () => {
    const readers = processTree(dw.pid).slice(1);
    assert.equal(readers.length, 1, `one reader process under dockward (${readers.join(', ')})`);
    process.kill(readers[0], 'SIGABRT');
    await dw.waitFor(/kernel process events: the kernel reader process exited \(signal SIGABRT\).*restarting in \d+ ms/);
    await dw.waitFor(/(kernel process events: subscribed[\s\S]*){2}/, 30_000);
    dw.alive();
    const after = processTree(dw.pid).slice(1);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], readers[0], 'a new reader');
    const arg = `kw-restarted-${ns}`;
    const { id } = await runContainer(docker, { name: `${ns}-restarted`, cmd: ['sh', '-c', `sleep 1; /bin/grep -c ${arg} /bin/busybox; sleep 300`] });
    const grep = await eventually('the grep after the restart', async () => (await docsOf(id)).find((d) => d.event.provider === 'kernel' && d.event.type[0] === 'start' && d.process.args?.includes(arg)));
    assert.equal(grep.container.id, id);
    const m = await dw.metrics();
    assert.equal(m.dockward_kernel_reader_restarts_total, 1);
    assert.equal(m.dockward_kernel_available, 1);
    const tamper = await eventually('the kernel-reader-crash alert', async () => {
      const r = await es.count({ index: `logs-dockward.alert-${ns}`, query: { term: { 'rule.id': 'dockward-tamper-kernel-reader-crash' } } });
      return r.count > 0 ? r.count : undefined;
    });
    assert.ok(tamper > 0);
  });
});
