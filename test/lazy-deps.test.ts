import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const DIST = join(__dirname, '..', 'src');

/** Runs `body` in a fresh node (this process's require cache holds whatever earlier imports loaded). */
function fresh(body: string): Record<string, unknown> {
  const script = `
    // More than one file: a deferred module's stand-in sits in the cache under the real one's path.
    const loaded = (part) => Object.keys(require.cache).filter((f) => f.includes('/node_modules/' + part + '/')).length > 1;
    const out = {};
    ${body}
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: DIST, encoding: 'utf8' })) as Record<string, unknown>;
}

test('the daemon starts without the modules it never uses, and both clients are built', () => {
  const out = fresh(`
    require('${DIST}/lazy-deps');
    require('${DIST}/cli/run');
    require('${DIST}/pipeline');
    const { createLogger } = require('${DIST}/telemetry/logger');
    createLogger({ level: 'info', format: 'text', elasticsearch: { enabled: false } });
    new (require('dockerode'))({ socketPath: '/nonexistent.sock' });
    new (require('@elastic/elasticsearch').Client)({ node: 'http://127.0.0.1:9' });
    for (const m of ['apache-arrow', 'ssh2', '@grpc/grpc-js', 'protobufjs', 'elastic-apm-node', 'dockerode', '@elastic/elasticsearch']) out[m] = loaded(m);
  `);
  assert.deepEqual(out, {
    'apache-arrow': false, ssh2: false, '@grpc/grpc-js': false, protobufjs: false, 'elastic-apm-node': false,
    dockerode: true, '@elastic/elasticsearch': true,
  });
});

test('every deferred module still resolves in this layout, and loads on first use', () => {
  const out = fresh(`
    const { DEFERRED, deferredPath } = require('${DIST}/lazy-deps');
    out.paths = DEFERRED.map((d) => Boolean(deferredPath(d.from, d.request)));
    const paths = DEFERRED.map((d) => deferredPath(d.from, d.request));
    const arrow = require(paths[0]);
    out.arrowBefore = loaded('apache-arrow');
    out.tableFromIPC = typeof arrow.tableFromIPC;
    out.arrowAfter = loaded('apache-arrow');
    const ssh = require(paths[1]);
    const agent = ssh({ host: '127.0.0.1', port: 9 });
    out.sshAgent = agent instanceof require('http').Agent;
    out.ssh2 = loaded('ssh2');
    out.session = typeof require(paths[2]).call;
    out.grpc = loaded('@grpc/grpc-js');
  `);
  assert.deepEqual(out, {
    paths: [true, true, true],
    arrowBefore: false, tableFromIPC: 'function', arrowAfter: true,
    sshAgent: true, ssh2: true,
    session: 'function', grpc: true,
  });
});

test('the ecs log format loads its package when chosen and writes ECS lines', () => {
  const out = fresh(`
    require('${DIST}/lazy-deps');
    const { createLogger } = require('${DIST}/telemetry/logger');
    const lines = [];
    const logger = createLogger({ level: 'info', format: 'ecs', elasticsearch: { enabled: false } });
    logger.transports[0].log = (info, next) => { lines.push(info[Symbol.for('message')]); next(); };
    logger.info('hello', { event: { action: 'x' } });
    out.line = JSON.parse(lines[0]);
  `);
  const line = out.line as Record<string, unknown>;
  assert.equal(line.message, 'hello');
  assert.equal(line['log.level'], 'info');
  assert.ok(line['ecs.version']);
});
