import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anomalyConfig } from '../../src/anomaly/detector';
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

  it('a drop below the baseline is reported but counts only when drops are asked for', () => {
    // a busy container: about a process start a second, counted per 2 s interval (so 30, 60 or 90 a minute)
    const v = (i: number): Vector => ({ cpu: 3, process_starts: [60, 30, 90, 60][i % 4] });
    const run = (drops: boolean) => {
      const m = new ContainerModel(modelConfig.parse({ warmup: 20, drops }));
      for (let i = 0; i < 200; i++) m.update(v(i));
      return [m.update({ cpu: 3, process_starts: 0 }), m.update({ cpu: 3, process_starts: 0 }), m.update({ cpu: 3, process_starts: 600 })];
    };
    const threshold = anomalyConfig.parse({}).threshold;
    const [quiet, quieter, burst] = run(false);
    assert.equal(quiet.signals.process_starts?.below, true);
    // 0 lies below every count seen: a new extreme, the highest score a signal can have
    assert.equal(quiet.signals.process_starts?.extreme, true);
    assert.equal(quiet.signals.process_starts?.score, 100, `the drop itself scores ${quiet.signals.process_starts?.score}`);
    assert.ok(quiet.score < threshold && quieter.score < threshold, `container scores ${quiet.score}, ${quieter.score} for a drop`);
    assert.equal(burst.top, 'process_starts');
    assert.ok(burst.score >= 90, `a burst scores ${burst.score}`);
    const [counted] = run(true);
    assert.equal(counted.top, 'process_starts');
    assert.ok(counted.score >= threshold, `with drops counted the container scores ${counted.score}`);
    assert.match(counted.explanation, /below its usual/);
  });
});
