import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockwardMappings, FLATTENED_IGNORE_ABOVE, replaceType } from '../../src/setup/mappings';
import { indexTemplatesStep } from '../../src/setup/index-templates';

type Node = { type?: string; properties?: Record<string, Node>; fields?: Record<string, Node>; ignore_above?: number };
function field(root: Node, path: string): Node {
  return path.split('.').reduce<Node>((n, p) => n.properties![p], root);
}

describe('ECS mappings', () => {
  const m = dockwardMappings() as Node & { dynamic: boolean };

  it('takes types from @elastic/ecs', () => {
    assert.equal(field(m, 'message').type, 'match_only_text');
    assert.equal(field(m, 'process.command_line').type, 'wildcard');
    assert.equal(field(m, 'process.command_line').fields?.text?.type, 'match_only_text');
    assert.equal(field(m, '@timestamp').type, 'date');
    assert.equal(field(m, 'container.id').type, 'keyword');
    assert.equal(field(m, 'container.id').ignore_above, 1024);
    assert.equal(field(m, 'process.pid').type, 'long');
    assert.equal(field(m, 'data_stream.dataset').type, 'constant_keyword');
  });

  it('maps labels as flattened and locks dynamic mapping', () => {
    assert.equal(field(m, 'container.labels').type, 'flattened');
    assert.equal(field(m, 'labels').type, 'flattened');
    assert.equal(field(m, 'docker.event.actor.attributes').type, 'flattened');
    assert.equal(m.dynamic, false);
  });

  it('gives every flattened field an ignore_above, so a long leaf value is never refused (M6)', () => {
    const flattened: string[] = [];
    const walk = (n: Node, path: string) => {
      if (n.type === 'flattened') {
        flattened.push(path);
        assert.equal(n.ignore_above, FLATTENED_IGNORE_ABOVE, path);
      }
      for (const [k, c] of Object.entries(n.properties ?? {})) walk(c, path ? `${path}.${k}` : k);
    };
    walk(m, '');
    for (const f of ['container.labels', 'labels', 'docker.event.actor.attributes', 'dockward.json', 'dockward.alert.matched']) assert.ok(flattened.includes(f), f);
    // A value indexed is at most 4 KiB of UTF-8: room is left for a key in the 32766-byte term.
    assert.ok(FLATTENED_IGNORE_ABOVE * 4 < 32766 / 2);
  });

  it('maps the label flag and the drift summary fields', () => {
    assert.equal(field(m, 'container.labels_truncated').type, 'long');
    assert.equal(field(m, 'dockward.drift.summary').type, 'boolean');
    for (const f of ['count', 'previous', 'total', 'skipped', 'kinds.creation', 'kinds.change', 'kinds.deletion']) assert.equal(field(m, `dockward.drift.${f}`).type, 'long', f);
    assert.equal(field(m, 'dockward.drift.sample').type, 'keyword');
  });

  it('replaces a missing mapper type by its stand-in everywhere', () => {
    const r = replaceType(m, 'wildcard') as Node;
    assert.equal(field(r, 'process.command_line').type, 'keyword');
    assert.equal(field(r, 'message').type, 'match_only_text', 'other types untouched');
    const t = replaceType(m, 'match_only_text') as Node;
    assert.equal(field(t, 'message').type, 'text');
    assert.equal(field(t, 'process.command_line').fields?.text?.type, 'text');
    assert.equal(field(t, 'event.type').type, 'keyword', 'a field named "type" is not mistaken for a type');
  });

  it('renders one data-stream index template per stream, above the built-in ones', () => {
    const r = indexTemplatesStep.render() as { index_templates: Record<string, { index_patterns: string[]; priority: number; data_stream: object }> };
    const t = r.index_templates['logs-dockward.container'];
    assert.deepEqual(t.index_patterns, ['logs-dockward.container-*']);
    assert.ok(t.priority > 100);
    assert.deepEqual(t.data_stream, {});
    assert.ok(r.index_templates['metrics-dockward.stats']);
  });
});
