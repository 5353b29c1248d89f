import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import Docker from 'dockerode';

/**
 * The real engines every integration test runs against. `npm test` starts them (scripts/test.sh)
 * and passes their addresses in the environment; a test file run on its own starts them here
 * through the same scripts. An engine that cannot start fails the run: nothing is skipped.
 */
export interface Engines {
  dockerHost: string;
  docker: Docker;
  esUrl: string;
  /** One write thread, write queue of one: answers 429 under load. */
  tinyUrl: string;
  tls: { url: string; ca: string; admin: Credentials; writer: Credentials };
}
export interface Credentials {
  username: string;
  password: string;
}

export const ROOT = join(__dirname, '..', '..', '..');
export const BUSYBOX = 'dockward/busybox:1';
export const LAB = 'dockward/lab:1';

let cached: Engines | undefined;

function script(name: string, ...args: string[]): string {
  return execFileSync(join(ROOT, 'scripts', name), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function creds(pair: string | undefined, what: string): Credentials {
  if (!pair) throw new Error(`no ${what} credentials for the TLS Elasticsearch`);
  const i = pair.indexOf(':');
  return { username: pair.slice(0, i), password: pair.slice(i + 1) };
}

export function engines(): Engines {
  if (cached) return cached;
  let env: Record<string, string | undefined> = process.env;
  if (!process.env.DWTEST_ENGINES) {
    script('dockerd.sh', 'start');
    script('images.sh');
    script('elasticsearch.sh', 'start', 'plain');
    script('elasticsearch.sh', 'start', 'tls');
    script('elasticsearch.sh', 'start', 'tiny');
    const tls = parseEnv(script('elasticsearch.sh', 'env', 'tls'));
    env = {
      ...parseEnv(script('dockerd.sh', 'env')),
      ...parseEnv(script('elasticsearch.sh', 'env', 'plain')),
      DWTEST_TLS_URL: tls.DWTEST_ES_URL,
      DWTEST_TLS_CA: tls.DWTEST_ES_CA,
      DWTEST_TLS_ADMIN: tls.DWTEST_ES_ADMIN,
      DWTEST_TLS_WRITER: tls.DWTEST_ES_WRITER,
      DWTEST_TINY_URL: parseEnv(script('elasticsearch.sh', 'env', 'tiny')).DWTEST_ES_URL,
    };
  }
  const dockerHost = env.DOCKER_HOST;
  if (!dockerHost?.startsWith('unix://')) throw new Error('DOCKER_HOST of the test engine is not set');
  cached = {
    dockerHost,
    docker: new Docker({ socketPath: dockerHost.slice('unix://'.length) }),
    esUrl: env.DWTEST_ES_URL ?? 'http://127.0.0.1:19200',
    tinyUrl: env.DWTEST_TINY_URL ?? 'http://127.0.0.1:19202',
    tls: {
      url: env.DWTEST_TLS_URL ?? 'https://127.0.0.1:19201',
      ca: env.DWTEST_TLS_CA ?? '',
      admin: creds(env.DWTEST_TLS_ADMIN, 'admin'),
      writer: creds(env.DWTEST_TLS_WRITER, 'writer'),
    },
  };
  return cached;
}

/** A superuser client on the plain cluster, for looking at what dockward stored. */
export function adminClient(): Client {
  return new Client({ node: engines().esUrl });
}

/** A data stream namespace of its own for each test: tests never see each other's documents. */
export function newNamespace(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}
