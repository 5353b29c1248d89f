import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { z } from 'zod';
import { duration } from '../config/units';
import { ConfigError } from '../errors';

export const elasticsearchConfig = z
  .object({
    hosts: z
      .array(z.string().regex(/^https?:\/\/[^/]+/, 'expected http(s)://host:port'))
      .min(1)
      .default(['http://127.0.0.1:9200']),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Base64 "id:key" as Kibana shows it. */
    api_key: z.string().optional(),
    ssl: z
      .object({
        /** PEM files of the CAs that signed the cluster's HTTP certificate. */
        certificate_authorities: z.array(z.string()).default([]),
        /** full: CA and host name; certificate: CA only; none: no verification (never in production). */
        verification_mode: z.enum(['full', 'certificate', 'none']).default('full'),
      })
      .strict()
      .prefault({}),
    request_timeout: duration.prefault('60s'),
    compression: z.boolean().default(false),
  })
  .strict()
  .prefault({})
  .superRefine((v, ctx) => {
    if ((v.username === undefined) !== (v.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.username === undefined ? 'username' : 'password'], message: 'username and password go together' });
    }
    if (v.api_key !== undefined && v.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'set either api_key or username/password, not both' });
    }
  });
export type ElasticsearchConfig = z.output<typeof elasticsearchConfig>;

/**
 * The client with dockward's choices: no transport-level retries (the sink retries only the failed
 * items of a bulk, never a whole batch again), no sniffing (a single address may be a proxy).
 */
export function createClient(cfg: ElasticsearchConfig): Client {
  return new Client(clientOptions(cfg));
}

/** The client options for a config (reads the CA files). */
export function clientOptions(cfg: ElasticsearchConfig): ClientOptions {
  const opts: ClientOptions = {
    nodes: cfg.hosts,
    maxRetries: 0,
    requestTimeout: cfg.request_timeout,
    compression: cfg.compression,
    name: 'dockward',
  };
  if (cfg.api_key) opts.auth = { apiKey: cfg.api_key };
  else if (cfg.username !== undefined) opts.auth = { username: cfg.username, password: cfg.password ?? '' };
  const ca = cfg.ssl.certificate_authorities.map((file, i) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError([{ key: `elasticsearch.ssl.certificate_authorities.${i}`, message: `cannot read ${file}: ${(err as Error).message}` }]);
    }
  });
  if (cfg.hosts.some((h) => h.startsWith('https:'))) {
    // Keys are left out rather than set to undefined: the HTTP layer treats a present key as set.
    opts.tls = { rejectUnauthorized: cfg.ssl.verification_mode !== 'none' };
    if (ca.length) opts.tls.ca = ca;
    if (cfg.ssl.verification_mode === 'certificate') opts.tls.checkServerIdentity = () => undefined;
  }
  return opts;
}

export interface ClusterInfo {
  version: string;
  major: number;
  nodeName: string;
  /** Module names of the local node: tells a default distribution from a minimal one. */
  modules: string[];
  license?: { type: string; status: string };
}

/**
 * Who the cluster is. `GET /` is absent on some distributions, so the version comes from the
 * local node's info; the licence API may be absent or forbidden, which is not an error here.
 */
export async function probeCluster(client: Client): Promise<ClusterInfo> {
  const res = await client.nodes.info({ node_id: '_local', metric: ['settings', 'plugins'], filter_path: ['nodes.*.version', 'nodes.*.name', 'nodes.*.modules.name'] });
  const node = Object.values(res.nodes ?? {})[0] as unknown as { version: string; name: string; modules?: Array<{ name: string }> } | undefined;
  if (!node) throw new Error('the cluster returned no local node info');
  const info: ClusterInfo = {
    version: node.version,
    major: Number(node.version.split('.')[0]),
    nodeName: node.name,
    modules: (node.modules ?? []).map((m) => m.name),
  };
  try {
    const lic = await client.license.get();
    info.license = { type: lic.license.type, status: lic.license.status };
  } catch {
    // Without x-pack or without the privilege there is no licence to read.
  }
  return info;
}
