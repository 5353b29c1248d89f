import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type Docker from 'dockerode';
import { z } from 'zod';
import { securitySettings } from '../collect/config-snapshot';
import type { ContainerMeta } from '../enrich/metadata';
import { evaluateAll, scoreOf, type Finding, type Resource, type Score } from './check';
import { CONTAINER_CHECKS, CONTAINER_USER_CHECK, type ContainerInput } from './container-checks';
import { DAEMON_CHECKS, type DaemonInput } from './daemon-checks';
import { IMAGE_CHECKS } from './image-checks';
import { hostIdentity } from '../enrich/host';

/** Where the scanner looks beyond the API; shared by the collector's config and `dockward scan`. */
export const scannerOptions = {
  /** dockerd's config file, read when readable (dockward on the engine's host). */
  daemon_config: z.string().min(1).default('/etc/docker/daemon.json'),
  /** host:port where an engine API without TLS is commonly exposed; probed with a plain-HTTP /_ping. */
  tcp_probe: z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'host:port')).default(['127.0.0.1:2375']),
};
export interface ScannerOptions {
  daemon_config: string;
  tcp_probe: string[];
}

export interface ResourceResult {
  resource: Resource;
  findings: Finding[];
  score: Score;
  /** For containers: the metadata every container document carries. */
  meta?: ContainerMeta;
}

export interface ScanReport {
  time: string;
  host: string;
  engine: { name: string; version: string; api: string };
  resources: ResourceResult[];
  findings: Finding[];
  /** Over every finding of the scan: the host's score. */
  score: Score;
}

const WELL_KNOWN_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/**
 * Evaluates the checks against one engine: the daemon (section 2 and 5.1), each container
 * (section 5 and 4.1) and each container's image (4.1, 4.6). Read-only: inspect, top, exec inspect,
 * network inspect, /info, /version, and a /_ping on the probe addresses.
 */
export class PostureScanner {
  private hostSecurity: string[] | undefined;

  private readonly engineHost: string;
  private readonly tls: boolean;

  constructor(private readonly docker: Docker, private readonly opts: ScannerOptions) {
    // From the client itself: the collector gets a connected client, not the docker.* config.
    const m = (docker as unknown as { modem: { socketPath?: string; protocol?: string; host?: string; port?: number } }).modem;
    this.engineHost = m.socketPath ? `unix://${m.socketPath}` : `${m.protocol === 'https' ? 'https' : 'tcp'}://${m.host}:${m.port}`;
    this.tls = m.protocol === 'https';
  }

  async daemon(): Promise<{ result: ResourceResult; engine: ScanReport['engine'] }> {
    const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
    this.hostSecurity = info.SecurityOptions ?? [];
    const input: DaemonInput = {
      info,
      version: version as unknown as Record<string, unknown>,
      daemonJson: readDaemonJson(this.opts.daemon_config),
      bridge: await this.defaultBridge(),
      connection: { host: this.engineHost, tls: this.tls },
      tcpProbes: await Promise.all(this.opts.tcp_probe.map(async (address) => ({ address, answered: await pingPlain(address) }))),
    };
    const resource: Resource = { type: 'daemon', id: info.ID || info.Name, name: info.Name };
    const findings = evaluateAll(DAEMON_CHECKS, input, resource);
    return { result: { resource, findings, score: scoreOf(findings) }, engine: { name: info.Name, version: version.Version, api: version.ApiVersion } };
  }

  /** One container and its image; undefined when it vanished before it could be inspected. */
  async container(id: string): Promise<{ container: ResourceResult; image: ResourceResult | undefined } | undefined> {
    let inspect: Docker.ContainerInspectInfo;
    try {
      inspect = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
    const hostSecurity = (this.hostSecurity ??= (await this.docker.info()).SecurityOptions ?? []);
    const input: ContainerInput = {
      inspect,
      settings: securitySettings(inspect),
      hostSecurity,
      socketPaths: [...new Set([...WELL_KNOWN_SOCKETS, ...(this.engineHost.startsWith('unix://') ? [this.engineHost.slice('unix://'.length)] : [])])],
      processes: inspect.State.Running ? await this.processes(id) : undefined,
      execs: await this.execs(inspect),
    };
    const meta = metaOf(inspect);
    const resource: Resource = { type: 'container', id: inspect.Id, name: meta.name };
    const findings = [...evaluateAll([CONTAINER_USER_CHECK], input, resource), ...evaluateAll(CONTAINER_CHECKS, input, resource)];
    return { container: { resource, findings, score: scoreOf(findings), meta }, image: await this.image(inspect.Image, inspect.Config.Image) };
  }

  async image(id: string, name: string): Promise<ResourceResult | undefined> {
    let img: Docker.ImageInspectInfo;
    try {
      img = await this.docker.getImage(id).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined; // removed since; nothing to judge
      throw err;
    }
    const resource: Resource = { type: 'image', id: img.Id, name: img.RepoTags?.[0] ?? name };
    const findings = evaluateAll(IMAGE_CHECKS, img, resource);
    return { resource, findings, score: scoreOf(findings) };
  }

  /**
   * The daemon, then every selected container (four at a time) and each distinct image once.
   * `states`: container states to include (created ones have a configuration worth judging too).
   */
  async full(select: { states: string[]; names?: (name: string) => boolean; onProgress?: (done: number, total: number) => void }): Promise<ScanReport> {
    const time = new Date().toISOString();
    const { result: daemon, engine } = await this.daemon();
    const list = (await this.docker.listContainers({ all: true }))
      .filter((c) => select.states.includes(c.State))
      .filter((c) => !select.names || c.Names.some((n) => select.names!(n.replace(/^\//, ''))));
    const containers: ResourceResult[] = [];
    const images = new Map<string, ResourceResult>();
    let done = 0;
    const queue = [...list];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const r = await this.container(c.Id);
        if (r) {
          containers.push(r.container);
          if (r.image) images.set(r.image.resource.id, r.image);
        }
        select.onProgress?.(++done, list.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, list.length) }, worker));
    containers.sort((a, b) => a.resource.name.localeCompare(b.resource.name));
    const resources = [daemon, ...containers, ...[...images.values()].sort((a, b) => a.resource.name.localeCompare(b.resource.name))];
    const findings = resources.flatMap((r) => r.findings);
    return { time, host: hostIdentity().name, engine, resources, findings, score: scoreOf(findings) };
  }

  private async defaultBridge(): Promise<Record<string, string> | null> {
    try {
      const n = (await this.docker.getNetwork('bridge').inspect()) as { Options?: Record<string, string> };
      return n.Options ?? {};
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw err;
    }
  }

  private async processes(id: string): Promise<string[] | undefined> {
    try {
      const top = (await this.docker.getContainer(id).top()) as { Titles: string[]; Processes: string[][] };
      const cmd = top.Titles.findIndex((t) => t === 'CMD' || t === 'COMMAND');
      return top.Processes.map((p) => p[cmd >= 0 ? cmd : p.length - 1]);
    } catch (err) {
      const s = (err as { statusCode?: number }).statusCode;
      if (s === 404 || s === 409) return undefined; // stopped between inspect and top
      throw err;
    }
  }

  private async execs(inspect: Docker.ContainerInspectInfo): Promise<ContainerInput['execs']> {
    const ids = (inspect as { ExecIDs?: string[] | null }).ExecIDs ?? [];
    const out: ContainerInput['execs'] = [];
    for (const id of ids) {
      try {
        const e = (await this.docker.getExec(id).inspect()) as unknown as { ID: string; ProcessConfig: { privileged: boolean; user: string } };
        out.push({ id: e.ID, privileged: e.ProcessConfig.privileged, user: e.ProcessConfig.user ?? '' });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err; // the engine forgets finished execs
      }
    }
    return out;
  }
}

export function metaOf(c: Docker.ContainerInspectInfo): ContainerMeta {
  return {
    id: c.Id, name: c.Name.replace(/^\//, ''), image: c.Config.Image, imageId: c.Image, labels: c.Config.Labels ?? {},
    hostname: c.Config.Hostname, tty: c.Config.Tty, running: c.State.Running, logDriver: c.HostConfig.LogConfig?.Type ?? '',
  };
}

function readDaemonJson(path: string): DaemonInput['daemonJson'] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { path, error: code === 'ENOENT' ? 'no such file' : `not readable (${code ?? (err as Error).message})` };
  }
  try {
    return { path, config: JSON.parse(text) as Record<string, unknown> };
  } catch (err) {
    return { path, error: `not valid JSON: ${(err as Error).message}` };
  }
}

/** True when an engine API answers plain HTTP at host:port (what `docker -H tcp://…` would reach). */
function pingPlain(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path: '/_ping', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK' && res.headers['api-version'] !== undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
