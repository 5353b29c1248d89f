import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { z } from 'zod';
import { EngineError } from '../errors';
import { duration } from '../config/units';

export const dockerConfig = z
  .object({
    /** unix:///path/to/docker.sock or tcp://host:port; defaults to DOCKER_HOST, then the usual socket. */
    host: z
      .string()
      .regex(/^(unix|tcp|http|https):\/\/.+/, 'expected unix:///path/to/docker.sock or tcp://host:port')
      .default('unix:///var/run/docker.sock'),
    tls: z
      .object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
      .strict()
      .optional(),
    /** Timeout of one short API call (inspect, list); streams are not bounded by it. */
    timeout: duration.prefault('30s'),
  })
  .strict()
  .prefault({});
export type DockerConfig = z.output<typeof dockerConfig>;

/** Builds a dockerode client for the configured engine (reads TLS files: this is the I/O step). */
export function connectDocker(cfg: DockerConfig): Docker {
  const url = new URL(cfg.host);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  const tls = cfg.tls;
  const secure = url.protocol === 'https:' || tls !== undefined;
  return new Docker({
    host: url.hostname,
    port: Number(url.port || (secure ? 2376 : 2375)),
    protocol: secure ? 'https' : 'http',
    ca: tls?.ca ? readFileSync(tls.ca) : undefined,
    cert: tls?.cert ? readFileSync(tls.cert) : undefined,
    key: tls?.key ? readFileSync(tls.key) : undefined,
  });
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  name: string;
  storageDriver: string;
  loggingDriver: string;
}

/** Asks the engine who it is; fails with EngineError naming the address when it does not answer. */
export async function probeEngine(docker: Docker, host: string): Promise<EngineInfo> {
  try {
    const [version, info] = await Promise.all([docker.version(), docker.info()]);
    return {
      version: version.Version,
      apiVersion: version.ApiVersion,
      name: info.Name,
      storageDriver: info.Driver,
      loggingDriver: info.LoggingDriver,
    };
  } catch (err) {
    throw new EngineError(`Docker engine at ${host} did not answer: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `GET /containers/{id}/logs` as a stream whether or not it follows: dockerode reads a non-follow
 * answer into one Buffer, which for a stopped container's log would be its whole file in memory.
 */
/** `signal` aborts the request, also while the engine has not answered yet, and then the stream. */
export function openLogStream(docker: Docker, id: string, options: Record<string, unknown>, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) =>
    docker.modem.dial(
      { path: `/containers/${id}/logs?`, method: 'GET', isStream: true, statusCodes: { 200: true, 404: 'no such container', 500: 'server error' }, options, abortSignal: signal },
      (err: Error | null, data: unknown) => (err ? reject(err) : resolve(data as IncomingMessage)),
    ),
  );
}
