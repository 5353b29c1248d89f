import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { z } from 'zod';
import { privateDir, quarantine, readStateFile, writeStateFile } from '../state/state-file';

export const hostConfig = z
  .object({
    /**
     * `host.name` of every document. Unset: the Docker engine's own name for its host (`docker
     * info` Name), which is the host's hostname even when dockward runs in a container (there
     * os.hostname() is the container's short id, so every upgrade would look like a new host).
     */
    name: z.string().min(1).max(255).optional(),
    /** `host.id`. Unset: the engine's ID (`docker info` ID), stable for the engine's life. */
    id: z.string().min(1).max(255).optional(),
  })
  .strict()
  .prefault({});
export type HostConfig = z.output<typeof hostConfig>;

/** ECS `host.*` and the agent's stable id: what every document says about where it was seen. */
export interface HostIdentity {
  name: string;
  id?: string;
  os?: { type: 'linux' | 'windows' | 'macos' | 'unknown'; name?: string; kernel?: string; platform?: string };
  architecture?: string;
  /** `agent.id`: kept in the state directory, the same across restarts and upgrades. */
  agentId?: string;
  /** `agent.ephemeral_id`: new each start, so two runs of one agent can be told apart. */
  ephemeralId: string;
  /** Where name came from: a stated fact for `dockward check` and the start line. */
  source: 'config' | 'engine' | 'os';
}

let current: HostIdentity | undefined;

/** The identity documents carry; before `resolveHostIdentity` ran (CLI commands without an engine): this machine's hostname. */
export function hostIdentity(): HostIdentity {
  return (current ??= { name: hostname(), ephemeralId: randomUUID(), source: 'os' });
}

/** For tests and for the run command: what baseFields() uses from now on. */
export function setHostIdentity(h: HostIdentity | undefined): void {
  current = h;
}

type EngineInfo = { Name?: string; ID?: string; OperatingSystem?: string; KernelVersion?: string; OSType?: string; Architecture?: string };

/**
 * The host's identity from the engine (one `docker info`, bounded by `timeoutMs`), the config's
 * overrides on top, and the agent id from the state directory (created once; none without one:
 * `dockward scan` writes no state). An engine that does
 * not answer leaves os.hostname(), and `warn` says so: documents are never held back for it.
 */
export async function resolveHostIdentity(docker: Pick<Docker, 'info'>, cfg: HostConfig, stateDir: string | undefined, warn: (why: string) => void, timeoutMs = 5000): Promise<HostIdentity> {
  let info: EngineInfo | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    info = await Promise.race([
      docker.info() as Promise<EngineInfo>,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (err) {
    warn(`host identity: the Docker engine's info is unavailable (${(err as Error).message}); host.name is this machine's hostname, ${hostname()}`);
  } finally {
    clearTimeout(timer);
  }
  const engineName = cleanName(info?.Name);
  const h: HostIdentity = {
    name: cfg.name ?? engineName ?? hostname(),
    id: cfg.id ?? cleanName(info?.ID),
    os: info ? { type: osType(info.OSType), name: cleanName(info.OperatingSystem), kernel: cleanName(info.KernelVersion), platform: info.OSType === 'linux' ? 'linux' : undefined } : undefined,
    architecture: cleanName(info?.Architecture),
    agentId: stateDir === undefined ? undefined : agentId(stateDir, warn),
    ephemeralId: randomUUID(),
    source: cfg.name ? 'config' : engineName ? 'engine' : 'os',
  };
  setHostIdentity(h);
  return h;
}

/** ECS host.* fields of an identity. */
export function hostFields(h: HostIdentity): Record<string, unknown> {
  return { name: h.name, hostname: h.name, ...(h.id ? { id: h.id } : {}), ...(h.os ? { os: h.os } : {}), ...(h.architecture ? { architecture: h.architecture } : {}) };
}

// The engine's answer is trusted more than a container's, but still bounded and printable.
function cleanName(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim().replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255) : undefined;
}

function osType(t: string | undefined): NonNullable<HostIdentity['os']>['type'] {
  return t === 'linux' || t === 'windows' ? t : 'unknown';
}

function agentId(stateDir: string, warn: (why: string) => void): string | undefined {
  const file = join(stateDir, 'agent.json');
  try {
    privateDir(stateDir);
    const text = readStateFile(file, 4096);
    if (text !== undefined) {
      const id = parseAgentFile(text);
      if (id) return id;
      const aside = quarantine(file);
      warn(`agent.id: ${file} does not hold an agent id${aside ? ` (moved aside to ${aside})` : ''}; a new one is made`);
    }
    const id = randomUUID();
    writeStateFile(file, JSON.stringify({ id }));
    return id;
  } catch (err) {
    warn(`agent.id: ${file} cannot be read or written (${(err as Error).message}); agent.id is left out`);
    return undefined;
  }
}

function parseAgentFile(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { id?: unknown };
    return typeof v?.id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v.id) ? v.id : undefined;
  } catch {
    return undefined;
  }
}
