import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { z } from 'zod';
import type { EngineEvent } from '../docker/event-stream';
import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { deterministicId } from '../ship/envelope';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';

export const configSnapshotConfig = periodicConfig('0 */5 * * * *', {});
export type ConfigSnapshotConfig = z.output<typeof configSnapshotConfig>;

const DATASET = 'dockward.config';

/** The security-relevant settings of one container, as stored in `docker.config`. */
export function securitySettings(c: Docker.ContainerInspectInfo) {
  const h = c.HostConfig as Docker.HostConfig & { CgroupnsMode?: string; MaskedPaths?: string[] };
  const sec: string[] = h.SecurityOpt ?? [];
  const opt = (name: string) => sec.find((s) => s.startsWith(`${name}=`) || s.startsWith(`${name}:`))?.slice(name.length + 1);
  return {
    privileged: h.Privileged ?? false,
    user: c.Config.User || 'root (default)',
    cap_add: h.CapAdd ?? [],
    cap_drop: h.CapDrop ?? [],
    mounts: (c.Mounts ?? []).map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, rw: m.RW, propagation: m.Propagation || undefined })),
    network_mode: h.NetworkMode,
    pid_mode: h.PidMode || 'private',
    ipc_mode: h.IpcMode || 'private',
    uts_mode: h.UTSMode || 'private',
    userns_mode: h.UsernsMode || 'default',
    cgroupns_mode: h.CgroupnsMode,
    readonly_rootfs: h.ReadonlyRootfs ?? false,
    seccomp: opt('seccomp') ?? 'default',
    apparmor: c.AppArmorProfile || opt('apparmor') || 'unconfined',
    no_new_privileges: sec.some((s) => s === 'no-new-privileges' || s === 'no-new-privileges:true' || s === 'no-new-privileges=true'),
    security_opt: sec,
    devices: ((h.Devices ?? []) as Array<{ PathOnHost: string }>).map((d) => d.PathOnHost),
    memory_limit: h.Memory || 0,
    cpu_shares: h.CpuShares || 0,
    cpu_quota: h.CpuQuota || 0,
    pids_limit: h.PidsLimit || 0,
    published_ports: Object.entries((h.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>).flatMap(([port, binds]) =>
      (binds ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`),
    ),
    restart_policy: h.RestartPolicy?.Name || 'no',
    image: c.Config.Image,
    image_id: c.Image,
    healthcheck: c.Config.Healthcheck?.Test?.join(' '),
  };
}

/**
 * A configuration snapshot per container in logs-dockward.config-<ns>: on create, start and
 * update (engine events) and on a schedule; a document only when the settings changed. Identity: container and the hash
 * of its settings, so an unchanged container re-inspected after a restart is a 409.
 */
export class ConfigSnapshotCollector extends PeriodicCollector<string> {
  readonly name = 'config';
  protected override onEngineEvent(ev: EngineEvent): void {
    // At create too: a container that then fails to start (or starts for a moment) is on record.
    if (ev.Type === 'container' && (ev.Action === 'create' || ev.Action === 'start' || ev.Action === 'update')) {
      void this.ctx.metadata.refresh(ev.Actor.ID).then((m) => m && this.poll(m)).catch(() => undefined);
    }
  }

  constructor(ctx: CollectorContext, cfg: ConfigSnapshotConfig) {
    super(ctx, cfg, 'logs', DATASET);
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    const info = await this.ctx.docker.getContainer(meta.id).inspect();
    const settings = securitySettings(info);
    const hash = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
    if (this.state.get(meta.id) === hash) return;
    this.state.set(meta.id, hash);
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(meta.id, hash),
      doc: {
        '@timestamp': new Date().toISOString(),
        message: `configuration of ${meta.name}${settings.privileged ? ' (privileged)' : ''}`,
        event: { kind: 'state', category: ['configuration'], type: ['info'], action: 'container_config', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        container: containerFields(meta),
        docker: { config: { ...settings, hash } },
        ...this.base,
      },
    });
  }
}
