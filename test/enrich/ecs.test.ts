import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerFields, detectLevel } from '../../src/enrich/ecs';

describe('ECS enrichment', () => {
  it('finds evident log levels and guesses none', () => {
    const cases: Array<[string, string | undefined]> = [
      ['level=error msg="disk full"', 'error'],
      ['{"level":"warn","msg":"slow"}', 'warn'],
      ['2026-11-28 12:00:00 [INFO] started', 'info'],
      ['WARNING: low memory', 'warn'],
      ['E 12:00 something', undefined],
      ['an error occurred in the information desk', undefined],
      ['severity: CRITICAL', 'critical'],
      ['plain line', undefined],
    ];
    for (const [line, want] of cases) assert.equal(detectLevel(line), want, line);
  });

  it('splits the image tag from the reference', () => {
    const base = { id: 'c', name: 'n', imageId: 'sha256:x', labels: {}, hostname: 'h', tty: false, running: true, logDriver: 'json-file' };
    const tag = (image: string) => (containerFields({ ...base, image }).image as { tag?: string[] }).tag;
    assert.deepEqual(tag('nginx:1.27'), ['1.27']);
    assert.deepEqual(tag('registry:5000/team/app:v2'), ['v2']);
    assert.equal(tag('registry:5000/team/app'), undefined);
    assert.equal(tag('app@sha256:abc'), undefined);
  });
});
