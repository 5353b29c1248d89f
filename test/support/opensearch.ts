import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './engines';

/**
 * OpenSearch as the real ingest engine for dockward's pipelines (scripts/opensearch.sh): the test
 * Elasticsearch has no ingest processors. `npm test` starts it and passes DWTEST_OS_URL; a file
 * run on its own starts it through the same script. With DWTEST_ENGINES=1 and no DWTEST_OS_URL the
 * run is misconfigured, and that is an error, never a skip.
 */
export function openSearchUrl(): string {
  if (process.env.DWTEST_ENGINES) {
    const url = process.env.DWTEST_OS_URL;
    if (!url) throw new Error('DWTEST_ENGINES=1 but DWTEST_OS_URL is not set: scripts/test.sh must start OpenSearch (scripts/opensearch.sh start) and eval its env');
    return url;
  }
  const script = join(ROOT, 'scripts', 'opensearch.sh');
  execFileSync(script, ['start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const env = execFileSync(script, ['env'], { encoding: 'utf8' });
  const url = /^DWTEST_OS_URL=(.+)$/m.exec(env)?.[1];
  if (!url) throw new Error(`scripts/opensearch.sh env printed no DWTEST_OS_URL: ${env}`);
  return url;
}

/** Plain HTTP with a JSON body; any non-2xx answer throws with OpenSearch's own error text. */
export async function osRequest<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The node's ingest processor types. */
export async function processorTypes(base: string): Promise<Set<string>> {
  const res = await osRequest<{ nodes: Record<string, { ingest: { processors: Array<{ type: string }> } }> }>(
    base, 'GET', '/_nodes/ingest?filter_path=nodes.*.ingest.processors.type');
  return new Set(Object.values(res.nodes).flatMap((n) => n.ingest.processors.map((p) => p.type)));
}

type Processor = Record<string, Record<string, unknown> & { on_failure?: Processor[] }>;
export interface PipelineBody {
  description?: string;
  _meta?: unknown;
  processors: Processor[];
  on_failure?: Processor[];
}

export interface Adapted {
  body: PipelineBody;
  /** Processors left out because OpenSearch has no such processor (type, where). */
  stripped: string[];
  /** Elasticsearch-only options rewritten to OpenSearch's equivalent (what, where). */
  rewritten: string[];
}

/**
 * A pipeline as OpenSearch 2.19 can run it. Everything that both engines share runs unchanged;
 * the differences are dealt with explicitly and reported, so the test can pin them:
 * - `_meta` on the pipeline: Elasticsearch 7.16+ keeps it, OpenSearch rejects the pipeline for it;
 *   it is metadata only (setup's hash), so it is dropped.
 * - `set` with `copy_from` (Elasticsearch 8.x): OpenSearch's `set` has only `value`. Rewritten to
 *   the mustache reference `{{{field}}}`, which is the same thing for a string source; the
 *   pipeline only copies strings (its `if` says `instanceof String`), and `if`, `override` and the
 *   rest stay as they are.
 * - A processor type the node lacks is stripped (with its own on_failure), and named.
 * `pipeline` processors are pointed at the renamed ids (`rename`), so a run's pipelines are its own.
 */
export function forOpenSearch(src: PipelineBody, where: string, have: Set<string>, rename: (id: string) => string): Adapted {
  const stripped: string[] = [];
  const rewritten: string[] = [];
  const adaptList = (list: Processor[] | undefined, at: string): Processor[] | undefined => {
    if (!list) return undefined;
    const out: Processor[] = [];
    list.forEach((p, i) => {
      const [type, opts] = Object.entries(p)[0];
      const here = `${at}[${i}] ${type}`;
      if (!have.has(type)) { stripped.push(here); return; }
      let o: Record<string, unknown> & { on_failure?: Processor[] } = { ...opts };
      if (type === 'set' && typeof o.copy_from === 'string') {
        const { copy_from: from, ...rest } = o;
        o = { ...rest, value: `{{{${from as string}}}}` };
        rewritten.push(`${here}: copy_from ${from as string} -> value {{{${from as string}}}}`);
      }
      if (type === 'pipeline' && typeof o.name === 'string') o.name = rename(o.name);
      if (o.on_failure) o.on_failure = adaptList(o.on_failure, `${here}.on_failure`);
      out.push({ [type]: o });
    });
    return out;
  };
  const { _meta, ...rest } = src;
  if (_meta !== undefined) rewritten.push(`${where}: _meta dropped`);
  const body: PipelineBody = { ...rest, processors: adaptList(rest.processors, `${where}.processors`)! };
  if (rest.on_failure) body.on_failure = adaptList(rest.on_failure, `${where}.on_failure`);
  return { body, stripped, rewritten };
}

export interface SimulatedDoc {
  doc?: { _source: Record<string, unknown> };
  error?: { type: string; reason: string };
}

/** `POST _ingest/pipeline/<id>/_simulate` over the given sources, one result per source. */
export async function simulate(base: string, id: string, sources: Array<Record<string, unknown>>): Promise<SimulatedDoc[]> {
  const res = await osRequest<{ docs: SimulatedDoc[] }>(base, 'POST', `/_ingest/pipeline/${encodeURIComponent(id)}/_simulate`,
    { docs: sources.map((s) => ({ _index: 'logs-dockward.container-simulate', _source: s })) });
  return res.docs;
}

/** A dotted path out of a simulated document. */
export function at(doc: Record<string, unknown> | undefined, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
