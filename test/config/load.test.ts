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

  it('expands ${VAR}, ${VAR:default} and ${VAR:?message} in the file like Beats; $${ is a literal', () => {
    const text = [
      'elasticsearch:',
      '  hosts: ${ES_HOSTS}',
      '  username: ${ES_USER:elastic}',
      '  password: "${ES_PASSWORD}"',
      'output:',
      '  concurrency: ${CONC}',
      'namespace: ${NS:?the namespace is per site}',
      'collectors:',
      '  logs:',
      '    exclude_names: ["$${literal}", "pre-${SUFFIX}"]',
    ].join('\n');
    const env = { ES_HOSTS: '[http://a:9200, http://b:9200]', ES_PASSWORD: '123456', CONC: '3', NS: 'site_7', SUFFIX: '${ES_PASSWORD}' };
    const cfg = loadConfig({ file: 'dw.yml', text, env });
    assert.deepEqual(cfg.elasticsearch.hosts, ['http://a:9200', 'http://b:9200'], 'a plain whole reference takes its YAML type');
    assert.equal(cfg.elasticsearch.username, 'elastic', 'the default after ":"');
    assert.equal(cfg.elasticsearch.password, '123456', 'quoted: text, even when it looks like a number');
    assert.equal(cfg.output.concurrency, 3);
    assert.equal(cfg.namespace, 'site_7');
    assert.deepEqual(cfg.collectors.logs.exclude_names, ['${literal}', 'pre-${ES_PASSWORD}'], 'expanded text is not expanded again');
  });

  it('an unset variable without a default names the variable, the key and the line', () => {
    const found = issues(() => loadConfig({ file: 'dw.yml', text: 'namespace: prod\nelasticsearch:\n  password: ${ES_PASSWORD}\nstate_dir: ${DIR:?set DIR to the state volume}\n', env: {} }));
    assert.deepEqual(found.map((i) => [i.key, i.line, i.source]), [['elasticsearch.password', 3, 'dw.yml'], ['state_dir', 4, 'dw.yml']]);
    assert.match(found[0].message, /environment variable ES_PASSWORD is not set/);
    assert.match(found[1].message, /DIR is not set: set DIR to the state volume/);
  });

  it('a DOCKWARD_* variable that names no key is a warning, not an error; a bad value of a real key still is', () => {
    const warnings: string[] = [];
    const cfg = loadConfig({ env: { DOCKWARD_ES_PASSWORD: 's3cret', DOCKWARD_OUTPUT__BULK_MAX_DOCZ: '5', DOCKWARD_NAMESPACE: 'ok_ns' }, warn: (m) => warnings.push(m) });
    assert.equal(cfg.namespace, 'ok_ns');
    assert.deepEqual(warnings.sort(), [
      'env DOCKWARD_ES_PASSWORD: names no configuration key (es_password); ignored',
      'env DOCKWARD_OUTPUT__BULK_MAX_DOCZ: names no configuration key (output.bulk_max_docz); ignored',
    ]);
    const [e] = issues(() => loadConfig({ env: { DOCKWARD_ES_PASSWORD: 'x', DOCKWARD_NAMESPACE: 'Bad-Name' } }));
    assert.deepEqual([e.key, e.source], ['namespace', 'env DOCKWARD_NAMESPACE']);
  });
});
