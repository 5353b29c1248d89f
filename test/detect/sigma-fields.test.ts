import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inDocument } from '../../src/detect/match-window';
import { RuleIndex } from '../../src/detect/prefilter';
import { formatIssue } from '../../src/detect/rules';
import { loadSigma } from '../../src/detect/sigma';

/**
 * SigmaHQ's OMIGOD rule (rules/linux/process_creation, Detection Rule License 1.1,
 * https://github.com/SigmaHQ/Detection-Rule-License; author Roberto Rodriguez, OTR, MSTIC), its
 * detection as published; `withoutLogonId` drops the one field dockward does not carry.
 */
function omigod(withoutLogonId: boolean): string {
  return [
    'title: OMIGOD SCX RunAsProvider ExecuteShellCommand',
    `id: 21541900-27a9-4454-9c4c-3f0a4240344a${withoutLogonId ? '-nologon' : ''}`,
    'status: test',
    'tags: [attack.privilege-escalation, attack.initial-access, attack.execution, attack.t1068, attack.t1190, attack.t1203]',
    'logsource:',
    '    product: linux',
    '    category: process_creation',
    'detection:',
    '    selection:',
    '        User: root',
    ...(withoutLogonId ? [] : ['        LogonId: 0']),
    "        CurrentDirectory: '/var/opt/microsoft/scx/tmp'",
    "        CommandLine|contains: '/bin/sh'",
    '    condition: selection',
    'level: high',
    '',
  ].join('\n');
}

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-fields-'));
  const file = join(dir, 'omigod.yml');
  writeFileSync(file, text);
  return { file, ...loadSigma([file]) };
}

/** A process start with the user where `where` puts it (ECS user.name, or dockward's process.user.name). */
function start(user: Record<string, unknown>, cwd = '/var/opt/microsoft/scx/tmp') {
  return {
    data_stream: { dataset: 'dockward.process' },
    event: { type: ['start'] },
    process: { name: 'sh', executable: '/bin/sh', args: ['/bin/sh', '-c', 'id'], command_line: '/bin/sh -c id', working_directory: cwd, ...user.process as object },
    ...(user.user ? { user: user.user } : {}),
  };
}

describe('Sigma field mapping', () => {
  it('refuses LogonId with the reason: the audit login uid is not carried', () => {
    const { file, rules, issues } = load(omigod(false));
    assert.deepEqual(rules, []);
    assert.deepEqual(issues.map(formatIssue), [
      `${file}:11 rule OMIGOD SCX RunAsProvider ExecuteShellCommand: unsupported field: LogonId in selection: Sysmon for Linux's logon id is the audit login uid (auid, ECS user.audit.id); dockward's process documents do not carry it`,
    ]);
  });

  it('reads User from ECS user.name and from process.user.name', () => {
    const { rules, issues } = load(omigod(true));
    assert.deepEqual(issues, []);
    const [rule] = rules;
    const index = new RuleIndex(rules);
    const fires = (doc: Record<string, unknown>) => inDocument(doc, () => index.candidates(doc).includes(rule) && rule.matches(doc));
    assert.equal(fires(start({ process: { user: { id: '0', name: 'root' } } })), true, 'process.user.name: root');
    assert.equal(fires(start({ user: { name: 'root' } })), true, 'user.name: root');
    assert.equal(fires(start({ process: { user: { id: '33', name: 'www-data' } } })), false, 'another user');
    assert.equal(fires(start({ process: { user: { id: '0', name: 'root' } } }, '/srv')), false, 'another directory');
    assert.equal(fires(start({})), false, 'no user at all');
  });
});
