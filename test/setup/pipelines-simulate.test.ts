import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTAINER_LOGS, INGESTED, PIPELINES } from '../../src/setup/pipeline-defs';
import { ROOT } from '../support/engines';
import { type Adapted, at, forOpenSearch, openSearchUrl, osRequest, type PipelineBody, processorTypes, simulate } from '../support/opensearch';

/*
 * The committed pipelines (pipelines/*.json, generated from src/setup/pipeline-defs.ts) run for
 * real through `_simulate` on OpenSearch 2.19 (scripts/opensearch.sh): the test Elasticsearch has
 * no ingest processors. The lines are what containers really print: JSON loggers, nginx and
 * Apache access logs, an nginx error log, a TLS handshake sent to an HTTP port, broken JSON.
 */

// What OpenSearch cannot run as Elasticsearch would, pinned so that a new difference is a decision:
// no processor is stripped; _meta is dropped and set's copy_from becomes a {{{...}}} value (why:
// forOpenSearch in test/support/opensearch.ts).
const EXPECTED_STRIPPED: string[] = [];
const EXPECTED_REWRITTEN = [
  'dockward-container-logs.processors[2] set: copy_from dockward.json.level -> value {{{dockward.json.level}}}',
  'dockward-container-logs: _meta dropped',
  'dockward-ingested: _meta dropped',
];

const NGINX = '172.17.0.1 - - [28/Nov/2026:21:10:00 +0000] "GET /api/items?id=3&sort=asc HTTP/1.1" 200 612 "https://shop.example/cart" "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"';
const NGINX_NO_REFERRER = '10.0.0.4 - - [28/Nov/2026:21:10:01 +0000] "POST /login HTTP/1.1" 302 0 "-" "-"';
const APACHE_COMMON = '192.0.2.10 - frank [10/Oct/2000:13:55:36 -0700] "DELETE /apache_pb.gif HTTP/1.0" 404 -';
const IPV6_PROBE = '2001:db8::1 - - [28/Nov/2026:21:10:02 +0000] "HEAD / HTTP/2.0" 204 0 "-" "kube-probe/1.31"';
const HOSTNAME_SOURCE = 'proxy.internal - - [28/Nov/2026:21:10:03 +0000] "GET /health HTTP/1.1" 200 2 "-" "curl/8.5.0"';
const TLS_TO_HTTP = '198.51.100.9 - - [28/Nov/2026:21:10:04 +0000] "\\x16\\x03\\x01\\x00\\xCA\\x01\\x00\\x00\\xC6\\x03\\x03" 400 157 "-" "-"';
const NGINX_ERROR = '2026/11/28 21:10:05 [error] 29#29: *1 open() "/usr/share/nginx/html/x" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: "GET /x HTTP/1.1"';
const JSON_LINE = '{"level":"WARN","msg":"slow query","duration_ms":812,"db":{"table":"orders"}}';
const PINO_LINE = '{"level":30,"time":1764364205000,"pid":7,"msg":"listening"}';
const BROKEN_JSON = '{"level":"info","msg":"truncated at 16k';

const line = (message: string, extra: Record<string, unknown> = {}) => ({ '@timestamp': '2026-11-28T21:10:00.000Z', message, ...extra });

describe('ingest pipelines run for real (_simulate on OpenSearch 2.19)', () => {
  let os = '';
  const run = randomBytes(4).toString('hex');
  // Each run stores its pipelines under its own ids: concurrent runs share the node.
  const idOf = (id: string) => `${id}-t${run}`;
  const adapted = new Map<string, Adapted>();

  before(async () => {
    os = openSearchUrl();
    const have = await processorTypes(os);
    const files = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files.map((f) => f.replace(/\.json$/, '')), PIPELINES.map((p) => p.id).sort(), 'every pipeline setup installs is committed, and only those');
    for (const f of files) {
      const id = f.replace(/\.json$/, '');
      const body = JSON.parse(readFileSync(join(ROOT, 'pipelines', f), 'utf8')) as PipelineBody;
      adapted.set(id, forOpenSearch(body, id, have, idOf));
    }
    // Referenced pipelines first: OpenSearch checks a `pipeline` processor's target when storing it.
    for (const id of [INGESTED, ...[...adapted.keys()].filter((k) => k !== INGESTED)]) {
      assert.deepEqual(await osRequest(os, 'PUT', `/_ingest/pipeline/${idOf(id)}`, adapted.get(id)!.body), { acknowledged: true });
    }
  });

  after(async () => {
    for (const id of adapted.keys()) await osRequest(os, 'DELETE', `/_ingest/pipeline/${idOf(id)}`).catch(() => undefined);
  });

  it('every processor runs on OpenSearch; what differs from Elasticsearch is exactly the pinned list', () => {
    assert.deepEqual([...adapted.values()].flatMap((a) => a.stripped), EXPECTED_STRIPPED);
    assert.deepEqual([...adapted.values()].flatMap((a) => a.rewritten).sort(), EXPECTED_REWRITTEN);
  });

  it(`${INGESTED}: event.ingested is the time the engine received the document; nothing else changes`, async () => {
    const t0 = Date.now();
    const stats = { '@timestamp': '2026-11-28T21:10:00.000Z', container: { name: 'web' }, event: { dataset: 'dockward.stats' } };
    const [r] = await simulate(os, idOf(INGESTED), [stats]);
    const t1 = Date.now();
    const ingested = at(r.doc?._source, 'event.ingested');
    assert.equal(typeof ingested, 'string', 'rendered from {{{_ingest.timestamp}}}, not the template text');
    assert.match(ingested as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // Ordering only (the same clock, whole-second slack): it is the engine's time, not @timestamp.
    const ms = Date.parse(ingested as string);
    assert.ok(ms >= t0 - 1000 && ms <= t1 + 1000, `${ingested as string} lies between the request's start and end`);
    assert.deepEqual({ ...r.doc!._source, event: { dataset: 'dockward.stats' } }, stats);
  });

  it(`${INGESTED}: the failure handler marks the document and keeps it whole`, async () => {
    // `event` as a string (a foreign document through the same template) cannot take event.ingested.
    const [r] = await simulate(os, idOf(INGESTED), [line('kept as it was', { event: 'login' })]);
    const s = r.doc!._source;
    assert.equal(r.error, undefined, 'the document is indexed, not refused');
    assert.equal(s.message, 'kept as it was');
    assert.deepEqual(s.tags, ['dockward_pipeline_error']);
    assert.equal(at(s, 'event'), 'login');
    assert.match(String(at(s, 'error.message')), /ingested/);
  });

  it(`${CONTAINER_LOGS}: nginx combined line -> http.*, url.*, source.*, user_agent.original`, async () => {
    const [r] = await simulate(os, idOf(CONTAINER_LOGS), [line(NGINX)]);
    const s = r.doc!._source;
    assert.equal(s.message, NGINX, 'the original line stays');
    assert.equal(at(s, 'http.request.method'), 'GET');
    assert.equal(at(s, 'http.version'), '1.1');
    assert.equal(at(s, 'http.response.status_code'), 200, 'a number, as the mapping (long) expects');
    assert.equal(at(s, 'http.response.body.bytes'), 612);
    assert.equal(at(s, 'http.request.referrer'), 'https://shop.example/cart');
    assert.equal(at(s, 'url.original'), '/api/items?id=3&sort=asc');
    assert.equal(at(s, 'url.path'), '/api/items');
    assert.equal(at(s, 'url.query'), 'id=3&sort=asc');
    assert.equal(at(s, 'source.address'), '172.17.0.1');
    assert.equal(at(s, 'source.ip'), '172.17.0.1');
    assert.equal(at(s, 'user_agent.original'), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0');
    assert.equal(typeof at(s, 'event.ingested'), 'string', 'the shared pipeline ran first');
    assert.equal(s.tags, undefined);
  });

  it(`${CONTAINER_LOGS}: "-" for referrer, user agent or size means absent; Apache common lines have neither`, async () => {
    const [noRef, common] = await simulate(os, idOf(CONTAINER_LOGS), [line(NGINX_NO_REFERRER), line(APACHE_COMMON)]);
    assert.equal(at(noRef.doc!._source, 'http.request.method'), 'POST');
    assert.equal(at(noRef.doc!._source, 'http.response.status_code'), 302);
    assert.equal(at(noRef.doc!._source, 'http.response.body.bytes'), 0);
    assert.equal(at(noRef.doc!._source, 'http.request.referrer'), undefined, 'not the string "-"');
    assert.equal(at(noRef.doc!._source, 'user_agent'), undefined, 'not the string "-"');
    const c = common.doc!._source;
    assert.equal(at(c, 'http.request.method'), 'DELETE');
    assert.equal(at(c, 'http.version'), '1.0');
    assert.equal(at(c, 'http.response.status_code'), 404);
    assert.equal(at(c, 'http.response.body'), undefined);
    assert.equal(at(c, 'url.path'), '/apache_pb.gif');
    assert.equal(at(c, 'url.query'), undefined);
    assert.equal(at(c, 'source.ip'), '192.0.2.10');
    assert.equal(at(c, 'user_agent'), undefined);
  });

  it(`${CONTAINER_LOGS}: IPv6 clients get source.ip; a host name stays source.address only`, async () => {
    const [v6, host] = await simulate(os, idOf(CONTAINER_LOGS), [line(IPV6_PROBE), line(HOSTNAME_SOURCE)]);
    assert.equal(at(v6.doc!._source, 'source.ip'), '2001:db8::1');
    assert.equal(at(v6.doc!._source, 'http.request.method'), 'HEAD');
    assert.equal(at(v6.doc!._source, 'http.response.status_code'), 204);
    assert.equal(at(v6.doc!._source, 'user_agent.original'), 'kube-probe/1.31');
    assert.equal(at(host.doc!._source, 'source.address'), 'proxy.internal');
    assert.equal(at(host.doc!._source, 'source.ip'), undefined, 'convert to ip fails quietly for a name');
    assert.equal(at(host.doc!._source, 'tags'), undefined);
  });

  it(`${CONTAINER_LOGS}: a request line that is not HTTP (TLS to the HTTP port) keeps its status, has no method or URL`, async () => {
    const [r] = await simulate(os, idOf(CONTAINER_LOGS), [line(TLS_TO_HTTP)]);
    const s = r.doc!._source;
    assert.equal(at(s, 'http.response.status_code'), 400);
    assert.equal(at(s, 'http.request.method'), undefined);
    assert.equal(at(s, 'url'), undefined);
    assert.equal(at(s, 'source.ip'), '198.51.100.9');
  });

  it(`${CONTAINER_LOGS}: JSON lines -> dockward.json, log.level from the line (lower case) unless the shipper set one`, async () => {
    const [json, pino, shipperLevel] = await simulate(os, idOf(CONTAINER_LOGS), [
      line(JSON_LINE), line(PINO_LINE), line(JSON_LINE, { log: { level: 'error' } }),
    ]);
    const j = json.doc!._source;
    assert.deepEqual(at(j, 'dockward.json'), { level: 'WARN', msg: 'slow query', duration_ms: 812, db: { table: 'orders' } });
    assert.equal(at(j, 'log.level'), 'warn');
    assert.equal(j.message, JSON_LINE);
    assert.equal(at(j, 'http'), undefined, 'a JSON line is not tried as an access log');
    // pino's numeric levels are not names: kept in dockward.json, log.level left alone.
    assert.equal(at(pino.doc!._source, 'dockward.json.level'), 30);
    assert.equal(at(pino.doc!._source, 'log'), undefined);
    assert.equal(at(shipperLevel.doc!._source, 'log.level'), 'error', 'override: false');
  });

  it(`${CONTAINER_LOGS}: a line that fails parsing is kept whole and tagged; other lines pass untouched`, async () => {
    const [broken, errorLog, plain] = await simulate(os, idOf(CONTAINER_LOGS), [
      line(BROKEN_JSON), line(NGINX_ERROR), line('server started on :8080'),
    ]);
    const b = broken.doc!._source;
    assert.equal(broken.error, undefined, 'indexed, not refused');
    assert.equal(b.message, BROKEN_JSON);
    assert.deepEqual(b.tags, ['dockward_json_failure']);
    assert.equal(at(b, 'dockward'), undefined);
    assert.equal(typeof at(b, 'event.ingested'), 'string', 'the rest of the pipeline still ran');
    for (const r of [errorLog, plain]) {
      const s = r.doc!._source;
      assert.deepEqual(Object.keys(s).sort(), ['@timestamp', 'event', 'message'], `only event.ingested added to ${String(s.message)}`);
    }
  });

  it(`${CONTAINER_LOGS}: a processor failure runs the pipeline's handler: pipeline_error, the reason, the original kept`, async () => {
    // A numeric log.level (another shipper's document through the same template) fails lowercase.
    const [r] = await simulate(os, idOf(CONTAINER_LOGS), [line('GET / 200', { log: { level: 6 } })]);
    const s = r.doc!._source;
    assert.equal(r.error, undefined, 'indexed, not refused');
    assert.equal(s.message, 'GET / 200');
    assert.equal(at(s, 'event.kind'), 'pipeline_error');
    assert.match(String(at(s, 'error.message')), /log\.level|String/);
    assert.deepEqual(s.tags, ['dockward_pipeline_error']);
    assert.equal(at(s, 'log.level'), 6);
  });
});
