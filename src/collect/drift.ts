import { z } from 'zod';
import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { deterministicId } from '../ship/envelope';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';

export const driftConfig = periodicConfig('0 * * * * *', {
  /** Path prefixes whose changes are expected and not reported. */
  ignore_paths: z.array(z.string()).default(['/proc', '/sys', '/dev']),
});
export type DriftConfig = z.output<typeof driftConfig>;

const DATASET = 'dockward.file';
const KIND: Record<number, 'change' | 'creation' | 'deletion'> = { 0: 'change', 1: 'creation', 2: 'deletion' };

/**
 * Filesystem drift: `GET /containers/{id}/changes` (what differs from the image) on a schedule,
 * reporting only what changed since the previous scan: a path that appears in the diff (created,
 * changed or deleted against the image), or one that left it (its change was undone: reported as
 * the opposite). The first scan of a container reports its whole diff, marked `baseline`.
 * Identity: container, path, change kind, and the scan that saw it.
 */
export class DriftCollector extends PeriodicCollector<Map<string, number>> {
  readonly name = 'drift';

  constructor(ctx: CollectorContext, private readonly cfg: DriftConfig) {
    super(ctx, cfg, 'logs', DATASET);
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    let raw: unknown = await this.ctx.docker.getContainer(meta.id).changes();
    // The engine answers `null` for "no changes", and docker-modem hands a JSON null back as the
    // raw body (a Buffer holding "null\n"), so it is parsed here; anything else that is not a list
    // is named, not iterated.
    if (Buffer.isBuffer(raw)) raw = JSON.parse(raw.toString('utf8') || 'null') as unknown;
    raw ??= [];
    if (!Array.isArray(raw)) throw new Error(`unexpected answer to GET /containers/${meta.id.slice(0, 12)}/changes: ${JSON.stringify(raw).slice(0, 200)}`);
    const changes = raw.filter((c): c is { Path: string; Kind: number } => typeof c?.Path === 'string');
    const scan = new Date().toISOString();
    const current = new Map<string, number>();
    for (const c of changes) if (!this.cfg.ignore_paths.some((p) => c.Path === p || c.Path.startsWith(`${p}/`))) current.set(c.Path, c.Kind);
    const before = this.state.get(meta.id);
    this.state.set(meta.id, current);
    const container = containerFields(meta);
    for (const [path, kind] of current) {
      if (before?.get(path) !== kind) this.emit(meta, container, path, KIND[kind] ?? 'change', scan, !before);
    }
    if (!before) return;
    for (const [path, kind] of before) {
      // Gone from the diff: an added file was removed again, or a change was undone.
      if (!current.has(path)) this.emit(meta, container, path, kind === 1 ? 'deletion' : 'change', scan, false);
    }
  }

  private emit(meta: ContainerMeta, container: Record<string, unknown>, path: string, type: 'change' | 'creation' | 'deletion', scan: string, baseline: boolean): void {
    const slash = path.lastIndexOf('/');
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(meta.id, path, type, scan),
      doc: {
        '@timestamp': scan,
        message: `${type} of ${path} in ${meta.name}`,
        event: { kind: 'event', category: ['file'], type: [type], action: `file_${type}`, dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        file: { path, name: path.slice(slash + 1), directory: slash > 0 ? path.slice(0, slash) : '/' },
        container,
        dockward: { drift: { baseline: baseline || undefined } },
        ...this.base,
      },
    });
  }
}
