import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContainerModel, modelConfig } from '../../src/anomaly/model';
import { univariateSchema, UnivariateDetector } from '../../src/anomaly/univariate';
import type { Vector } from '../../src/anomaly/signals';

// a repeating daily-like pattern with a deterministic wobble
const pattern = (i: number): number => 50 + 30 * Math.sin(i / 8) + ((i * 7919) % 13) / 4;

describe('anomaly core', () => {
  it('a repeated pattern is learned (low scores) and a jump out of it is not', () => {
    const d = new UnivariateDetector(univariateSchema.parse({ warmup: 100, combine: 'cad' }));
    const late: number[] = [];
    for (let i = 0; i < 600; i++) {
      const r = d.update(pattern(i));
      if (i >= 500) late.push(r.raw);
    }
    const mean = late.reduce((a, b) => a + b, 0) / late.length;
    const spike = d.update(400).raw;
    assert.ok(mean < 0.3, `learned pattern scores ${mean.toFixed(3)} on average`);
    assert.ok(spike > 0.7, `a jump to 400 scores ${spike.toFixed(3)}`);
  });

  it('a restored model continues exactly where the saved one was (JSON round trip)', () => {
    const cfg = modelConfig.parse({ warmup: 20 });
    const v = (i: number): Vector => ({ cpu: pattern(i) / 10, memory: 100 + (i % 5), process_starts: i % 3, log_lines: 30 + (i % 7) * 2 });
    const a = new ContainerModel(cfg);
    for (let i = 0; i < 150; i++) a.update(v(i));
    const b = new ContainerModel(cfg, JSON.parse(JSON.stringify(a.snapshot())));
    assert.equal(b.warm, true);
    for (let i = 150; i < 200; i++) assert.deepEqual(b.update(v(i)), a.update(v(i)), `interval ${i}`);
    const jump = a.update({ ...v(200), cpu: 100 });
    assert.equal(jump.top, 'cpu');
    assert.ok(jump.score >= 90, `cpu jump scores ${jump.score}`);
  });
});
