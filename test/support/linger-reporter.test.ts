import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import lingerReporter from './linger-reporter';

async function run(events: Array<{ name: string; file: string; ms: number }>): Promise<{ out: string; code: typeof process.exitCode }> {
  const before = process.exitCode;
  async function* source() {
    for (const e of events) yield { type: 'test:complete', data: { nesting: 0, name: e.name, file: e.file, details: { duration_ms: e.ms } } };
  }
  let out = '';
  for await (const line of lingerReporter(source())) out += line;
  const code = process.exitCode;
  process.exitCode = before;
  return { out, code };
}

describe('linger reporter', () => {
  it('names a file whose process outlived its tests and fails the run', async () => {
    const r = await run([
      { name: 'suite a', file: '/t/a.test.js', ms: 40_000 },
      { name: 'suite b', file: '/t/a.test.js', ms: 2_000 },
      { name: '/t/a.test.js', file: '/t/a.test.js', ms: 332_000 },
      { name: 'quick', file: '/t/b.test.js', ms: 100 },
      { name: '/t/b.test.js', file: '/t/b.test.js', ms: 900 },
    ]);
    assert.match(r.out, /\/t\/a\.test\.js: the process exited 290 s after its tests ended/);
    assert.doesNotMatch(r.out, /b\.test\.js/);
    assert.equal(r.code, 1);
  });

  it('says nothing when every file exits with its tests', async () => {
    const r = await run([{ name: 's', file: '/t/c.test.js', ms: 60_000 }, { name: '/t/c.test.js', file: '/t/c.test.js', ms: 61_500 }]);
    assert.equal(r.out, '');
    assert.notEqual(r.code, 1);
  });
});
