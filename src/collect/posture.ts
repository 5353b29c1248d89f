import { z } from 'zod';
import type { EngineEvent } from '../docker/event-stream';
import type { ContainerMeta } from '../enrich/metadata';
import { scoreOf, type Finding } from '../posture/check';
import { findingEnvelope, POSTURE_DATASET, scoreEnvelope, type ScanStamp } from '../posture/documents';
import { PostureScanner, scannerOptions, type ResourceResult } from '../posture/scan';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';
import { hostIdentity } from '../enrich/host';

export const postureConfig = periodicConfig('0 0 * * * *', scannerOptions);
export type PostureConfig = z.output<typeof postureConfig>;

/** Last verdict per check, per resource: what `changed` is judged against. */
type Verdicts = Map<string, string>;

/**
 * CIS Docker Benchmark findings in logs-dockward.posture-<ns>: every container when it is created
 * or started (engine events; a container that cannot start is judged at create), and on the
 * schedule the daemon, every running container, each image in use and the host's score. Failed
 * checks become alerts through the rule engine (rules/posture.yml), like any other document.
 */
export class PostureCollector extends PeriodicCollector<Verdicts> {
  readonly name = 'posture';
  private readonly scanner: PostureScanner;
  /** Verdicts of resources that are not containers (the daemon, images): never pruned by the tick. */
  private readonly others = new Map<string, Verdicts>();
  /** The scheduled round in progress: its stamp, the images already judged and every finding for the host score. */
  private round: { scan: ScanStamp; images: Set<string>; findings: Finding[] } | undefined;

  constructor(ctx: CollectorContext, cfg: PostureConfig) {
    super(ctx, cfg, 'logs', POSTURE_DATASET);
    this.scanner = new PostureScanner(ctx.docker, cfg);
  }

  protected override onEngineEvent(ev: EngineEvent): void {
    if (ev.Type === 'container' && (ev.Action === 'create' || ev.Action === 'start' || ev.Action === 'update')) {
      const scan = { time: new Date(Number(ev.nano / 1_000_000n)).toISOString(), trigger: ev.Action, id: `${ev.Action}:${ev.nano}` };
      void this.scanContainer(ev.Actor.ID, scan).catch((err) => this.failed(ev.Actor.ID, err));
    }
    if (ev.Type === 'container' && ev.Action === 'destroy') this.state.delete(ev.Actor.ID);
  }

  /** The daemon, then every running container (staggered by the base class), then the host's score. */
  override async tick(): Promise<void> {
    if (!this.running || this.round) return;
    const time = new Date().toISOString();
    const scan: ScanStamp = { time, trigger: 'schedule', id: `schedule:${time}` };
    this.round = { scan, images: new Set(), findings: [] };
    try {
      const { result } = await this.scanner.daemon();
      this.emit(result, scan);
      await super.tick();
      const host = hostIdentity().name;
      this.ctx.output.send(scoreEnvelope({ type: 'host', id: host, name: host }, scoreOf(this.round.findings), scan, this.index, this.base));
    } catch (err) {
      this.ctx.telemetry.event('posture.scan.failed', 'warn', `posture: scheduled scan failed: ${(err as Error).message}`);
    } finally {
      this.round = undefined;
    }
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    if (this.round) await this.scanContainer(meta.id, this.round.scan);
  }

  private async scanContainer(id: string, scan: ScanStamp): Promise<void> {
    const r = await this.scanner.container(id);
    if (!r) return;
    this.emit(r.container, scan);
    const round = this.round?.scan === scan ? this.round : undefined;
    if (r.image && !round?.images.has(r.image.resource.id)) {
      round?.images.add(r.image.resource.id);
      this.emit(r.image, scan);
    }
  }

  private emit(r: ResourceResult, scan: ScanStamp): void {
    const key = r.resource.id;
    const store = r.resource.type === 'container' ? this.state : this.others;
    const last = store.get(key) ?? new Map<string, string>();
    for (const f of r.findings) {
      const changed = last.get(f.check.id) !== f.evaluation;
      last.set(f.check.id, f.evaluation);
      this.ctx.output.send(findingEnvelope(f, scan, this.index, this.base, changed, r.meta));
    }
    store.set(key, last);
    this.ctx.output.send(scoreEnvelope(r.resource, r.score, scan, this.index, this.base, r.meta));
    if (this.round?.scan === scan) this.round.findings.push(...r.findings);
  }

  private failed(id: string, err: unknown): void {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return; // gone between the event and the inspect
    this.ctx.telemetry.event('posture.container.failed', 'warn', `posture of ${id.slice(0, 12)}: ${(err as Error).message}`, { container: { id } });
  }
}
