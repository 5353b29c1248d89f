import type Docker from 'dockerode';
import { boundLabels, type LabelTruncation } from './labels';

/** What every document about a container carries, from one `inspect`. */
export interface ContainerMeta {
  id: string;
  name: string;
  image: string;
  imageId: string;
  /** Bounded (src/enrich/labels.ts) when the meta comes from MetadataCache. */
  labels: Record<string, string>;
  /** Set when the container's labels exceeded the bounds: what was left out (a label-bomb tamper). */
  labelsTruncated?: LabelTruncation;
  hostname: string;
  tty: boolean;
  running: boolean;
  logDriver: string;
}

/**
 * One cache of container metadata for the whole flow, fed by engine events: filled on first sight
 * (concurrent lookups share one inspect), refreshed on `rename`/`update`, forgotten a while after
 * `destroy` so that late log lines of a removed container are still enriched.
 */
export class MetadataCache {
  private readonly entries = new Map<string, Promise<ContainerMeta | undefined>>();

  constructor(private readonly docker: Docker, private readonly forgetAfterMs = 60_000) {}

  get(id: string): Promise<ContainerMeta | undefined> {
    let p = this.entries.get(id);
    if (!p) {
      p = this.inspect(id);
      this.entries.set(id, p);
      // A failed lookup (the engine was down) is retried next time, not cached.
      p.then((m) => m === undefined && this.entries.delete(id), () => this.entries.delete(id));
    }
    return p;
  }

  refresh(id: string): Promise<ContainerMeta | undefined> {
    this.entries.delete(id);
    return this.get(id);
  }

  forget(id: string): void {
    setTimeout(() => this.entries.delete(id), this.forgetAfterMs).unref();
  }

  private async inspect(id: string): Promise<ContainerMeta | undefined> {
    try {
      const c = await this.docker.getContainer(id).inspect();
      // Bounded once per container here, so no consumer holds or copies 100k labels.
      const { labels, truncated } = boundLabels(c.Config.Labels);
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        image: c.Config.Image,
        imageId: c.Image,
        labels,
        ...(truncated ? { labelsTruncated: truncated } : {}),
        hostname: c.Config.Hostname,
        tty: c.Config.Tty,
        running: c.State.Running,
        logDriver: c.HostConfig.LogConfig?.Type ?? '',
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }
}
