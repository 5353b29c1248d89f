import type Docker from 'dockerode';

/**
 * The labels images set (`LABEL` in a Dockerfile), by image id, for the allow-list: only the keys
 * the allow-list names are kept, so an image with 100k labels costs one inspect and a few
 * strings. One inspect per image (concurrent asks share it), a bounded map (oldest out first), a
 * time budget per inspect. A failed or late inspect is not cached: the next alert asks again.
 */
export class ImageLabelCache {
  private readonly known = new Map<string, Record<string, string>>();
  private readonly loading = new Map<string, Promise<Record<string, string> | null>>();

  constructor(
    private readonly docker: Docker,
    private readonly keys: readonly string[],
    private readonly max = 1_000,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The image's labels (allow-list keys only), or undefined when not loaded. */
  get(imageId: string): Record<string, string> | undefined {
    return this.known.get(imageId);
  }

  /** Loads the image's labels; null when the engine did not say (gone, failed, too slow). */
  load(imageId: string): Promise<Record<string, string> | null> {
    const hit = this.known.get(imageId);
    if (hit) return Promise.resolve(hit);
    let p = this.loading.get(imageId);
    if (!p) {
      p = this.inspect(imageId).finally(() => this.loading.delete(imageId));
      this.loading.set(imageId, p);
    }
    return p;
  }

  private async inspect(imageId: string): Promise<Record<string, string> | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.timeoutMs);
      timer.unref();
    });
    try {
      const info = await Promise.race([this.docker.getImage(imageId).inspect(), late]);
      if (!info) return null;
      const all = (info.Config?.Labels ?? {}) as Record<string, unknown>;
      const labels: Record<string, string> = {};
      for (const k of this.keys) if (Object.hasOwn(all, k) && typeof all[k] === 'string') labels[k] = all[k] as string;
      if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
      this.known.set(imageId, labels);
      return labels;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
