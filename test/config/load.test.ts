import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';

function issues(fn: () => unknown): ConfigError['issues'] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.issues;
  }
  assert.fail('no error');
}

describe('config', () => {
  it('gives every default without a file', () => {
    const cfg = loadConfig({ env: {} });
    assert.equal(cfg.namespace, 'default');
    assert.equal(cfg.docker.host, 'unix:///var/run/docker.sock');
    assert.deepEqual(cfg.elasticsearch.hosts, ['http://127.0.0.1:9200']);
    assert.equal(cfg.output.flush_interval, 1000);
    assert.equal(cfg.output.bulk_max_bytes, 5_000_000);
    assert.equal(cfg.collectors.logs.max_line_bytes, 1024 * 1024);
    assert.equal(cfg.collectors.logs.enabled, true);
  });

  it('layers file < env < --set, with DOCKER_HOST as the engine default', () => {
    const text = 'namespace: prod\nelasticsearch:\n  hosts: [http://es1:9200]\noutput:\n  concurrency: 3\n';
    const cfg = loadConfig({
      file: 'dockward.yml', text,
      env: { DOCKER_HOST: 'tcp://127.0.0.1:2375', DOCKWARD_OUTPUT__CONCURRENCY: '4', DOCKWARD_COLLECTORS__EVENTS__ENABLED: 'false' },
      sets: ['output.concurrency=5', 'elasticsearch.hosts=[https://a:9200, https://b:9200]'],
    });
    assert.equal(cfg.namespace, 'prod');
    assert.equal(cfg.docker.host, 'tcp://127.0.0.1:2375');
    assert.equal(cfg.output.concurrency, 5);
    assert.equal(cfg.collectors.events.enabled, false);
    assert.deepEqual(cfg.elasticsearch.hosts, ['https://a:9200', 'https://b:9200']);
  });

  it('names the key and the line of a bad value in the file', () => {
    const text = 'namespace: ok\noutput:\n  concurrency: 2\n  flush_interval: soon\n';
    const [i] = issues(() => loadConfig({ file: 'dw.yml', text, env: {} }));
    assert.equal(i.key, 'output.flush_interval');
    assert.equal(i.source, 'dw.yml');
    assert.equal(i.line, 4);
    assert.match(i.message, /not a duration/);
  });

  it('names the line of an unknown key (a typo never falls back to a default)', () => {
    const text = 'elasticsearch:\n  hosts: [http://x:9200]\n  pasword: secret\n';
    const found = issues(() => loadConfig({ file: 'dw.yml', text, env: {} }));
    assert.deepEqual(found.map((i) => [i.key, i.line]), [['elasticsearch.pasword', 3]]);
    assert.match(found[0].message, /unknown key/);
  });

  it('names the environment variable or flag that set a bad value', () => {
    const [e] = issues(() => loadConfig({ env: { DOCKWARD_NAMESPACE: 'Bad-Name' } }));
    assert.deepEqual([e.key, e.source], ['namespace', 'env DOCKWARD_NAMESPACE']);
    const [f] = issues(() => loadConfig({ env: {}, sets: ['output.concurrency=0'] }));
    assert.deepEqual([f.key, f.source], ['output.concurrency', 'flag --set output.concurrency']);
  });

  it('reports YAML syntax errors with their line, and every problem at once', () => {
    const [y] = issues(() => loadConfig({ file: 'dw.yml', text: 'a: 1\nb: [unclosed\n', env: {} }));
    assert.equal(y.source, 'dw.yml');
    assert.ok(y.line! >= 2);
    const many = issues(() => loadConfig({ file: 'dw.yml', text: 'namespace: UP\nqueue:\n  memory:\n    max_docs: -1\n', env: {} }));
    assert.deepEqual(many.map((i) => i.key).sort(), ['namespace', 'queue.memory.max_docs']);
  });

  it('checks pairs that only make sense together', () => {
    const [i] = issues(() => loadConfig({ env: {}, sets: ['elasticsearch.username=u'] }));
    assert.equal(i.key, 'elasticsearch.password');
  });
});
