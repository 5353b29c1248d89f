import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { containerFields, labelTamper } from '../../src/enrich/ecs';
import { boundLabels, LABEL_LIMITS, utf8Prefix } from '../../src/enrich/labels';
import { MetadataCache, type ContainerMeta } from '../../src/enrich/metadata';

const meta = (labels: Record<string, string>): ContainerMeta => ({
  id: 'a'.repeat(64), name: 'n', image: 'i:1', imageId: 'sha256:x', labels, hostname: 'h', tty: false, running: true, logDriver: 'json-file',
});

function hundredThousand(): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 1e5 }, (_, i) => [`l${i}`, 'v']));
}

describe('container labels in documents (M6)', () => {
  it('a 2-byte log line of a container with 100,000 labels stays small (was 1258 KiB, 61 ms to serialise)', () => {
    const container = containerFields(meta({ ...hundredThousand(), 'dockward.logs': 'false' }));
    const t0 = process.hrtime.bigint();
    const bytes = Buffer.byteLength(JSON.stringify({ message: 'hi', container }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const labels = container.labels as Record<string, string>;
    assert.equal(Object.keys(labels).length, LABEL_LIMITS.count);
    assert.ok(bytes < 4096, `${bytes} bytes`);
    assert.ok(ms < 5, `${ms} ms to serialise`);
    assert.equal(container.labels_truncated, 1e5 + 1 - LABEL_LIMITS.count);
    // dockward's own labels survive the cut (it reads them), then the first keys in code-unit order.
    assert.equal(labels['dockward.logs'], 'false');
    assert.deepEqual(Object.keys(labels).slice(0, 4), ['dockward.logs', 'l0', 'l1', 'l10']);
  });

  it('cuts a 40 KB value to 1 KiB and leaves out a key over 256 bytes', () => {
    const container = containerFields(meta({ note: 'x'.repeat(40_000), ['k'.repeat(40_000)]: 'v', team: 'red' }));
    assert.deepEqual(container.labels, { note: 'x'.repeat(LABEL_LIMITS.valueBytes), team: 'red' });
    assert.equal(container.labels_truncated, 2);
    const b = boundLabels({ note: 'x'.repeat(40_000), ['k'.repeat(40_000)]: 'v' });
    assert.deepEqual(b.truncated, { total: 2, dropped: 1, cut: 1, longestKey: 40_000, longestValue: 40_000 });
  });

  it('leaves labels within the bounds untouched, the same object and no flag', () => {
    const labels = { 'com.docker.compose.service': 'web', tier: 'front' };
    const container = containerFields(meta(labels));
    assert.equal(container.labels, labels);
    assert.equal('labels_truncated' in container, false);
    assert.equal(labelTamper(meta(labels)), undefined);
  });

  it('bounds once per container, not once per document', () => {
    const m = meta(hundredThousand());
    const first = containerFields(m).labels;
    // Bounding again would build a new object: the same one means it was not redone.
    for (let i = 0; i < 1000; i++) assert.equal(containerFields(m).labels, first);
  });

  it('keeps a label named __proto__ a label', () => {
    const raw = JSON.parse(`{"__proto__":"x","a":"${'y'.repeat(2000)}"}`) as Record<string, string>;
    const { labels } = boundLabels(raw);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.ok(Object.hasOwn(labels, '__proto__'));
    assert.equal(JSON.parse(JSON.stringify(labels)).__proto__, 'x');
  });

  it('cuts by UTF-8 bytes and never splits a surrogate pair', () => {
    assert.equal(utf8Prefix('ab😀c', 5), 'ab');
    assert.equal(utf8Prefix('ab😀c', 6), 'ab😀');
    assert.equal(utf8Prefix('é'.repeat(10), 5), 'éé');
    assert.equal(utf8Prefix('\ud800x', 3), '\ud800', 'a lone surrogate counts as the 3 bytes it is written as');
    const alphabet = ['a', 'é', '€', '😀', '\ud800', '\udfff'];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 500; n++) {
      const s = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      const max = Math.floor(rand() * 60);
      const p = utf8Prefix(s, max);
      assert.ok(s.startsWith(p));
      assert.ok(Buffer.byteLength(p) <= max, `${JSON.stringify(s)} → ${Buffer.byteLength(p)} > ${max}`);
      const last = p.charCodeAt(p.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) assert.ok((s.charCodeAt(p.length) & 0xfc00) !== 0xdc00, 'split a surrogate pair');
      // Longest: the next code point would not have fitted.
      if (p !== s) {
        const cp = s.codePointAt(p.length)!;
        const next = cp > 0xffff && (s.charCodeAt(p.length) & 0xfc00) === 0xd800 ? s.slice(p.length, p.length + 2) : s[p.length];
        assert.ok(Buffer.byteLength(p + next) > max);
      }
    }
  });

  it('MetadataCache bounds labels at inspect and keeps what was left out; the tamper report comes once', async () => {
    const labels = { ...hundredThousand(), big: 'z'.repeat(5000) };
    const docker = {
      getContainer: () => ({
        inspect: async () => ({ Id: 'b'.repeat(64), Name: '/bomb', Image: 'sha256:y', State: { Running: true }, HostConfig: {}, Config: { Image: 'bomb:1', Labels: labels, Hostname: 'h', Tty: false } }),
      }),
    } as unknown as Docker;
    const m = (await new MetadataCache(docker).get('b'.repeat(64)))!;
    assert.equal(Object.keys(m.labels).length, LABEL_LIMITS.count);
    assert.deepEqual(m.labelsTruncated, { total: 100_001, dropped: 100_001 - LABEL_LIMITS.count, cut: 1, longestKey: 6, longestValue: 5000 });
    assert.equal(containerFields(m).labels_truncated, 100_001 - LABEL_LIMITS.count + 1);
    const report = labelTamper(m);
    assert.equal(report?.kind, 'label-bomb');
    assert.equal(report?.container, 'b'.repeat(64));
    assert.match(report!.detail, /^100001 labels: 99873 left out, 1 values cut \(longest key 6 B, longest value 5000 B/);
    assert.equal(labelTamper(m), undefined, 'once per container');
  });
});
