/**
 * Learned baselines on disk, so a restart does not start every container's warm-up again:
 * one JSON file, written atomically (state-file.ts: a new 0600 temporary file, fsync, rename) on
 * a node-cron schedule and at shutdown. Keyed by container id, and by image: a container of a
 * known image that dockward has not seen (re-created, scaled out) starts from that image's most
 * experienced model instead of from nothing.
 *
 * The file is untrusted input: one that is not JSON or not this shape is moved aside
 * (`anomaly-models.json.corrupt-<timestamp>`, said once, /health degraded) and every container
 * warms up afresh; a single model that is not whole (model-state.ts) is dropped when it is first
 * looked up — counted, said once — and only its container warms up afresh.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Telemetry } from '../telemetry/telemetry';
import { privateDir, quarantine, readStateFile, writeStateFile, zodReason } from '../state/state-file';
import type { ModelState } from './model';
import { modelStateProblem } from './model-state';

/** Models are checked one by one when looked up (model-state.ts), not all at load. */
const fileSchema = z.strictObject({
  version: z.literal(1),
  containers: z.record(z.string(), z.object({ image: z.string(), model: z.unknown() })).optional(),
  images: z.record(z.string(), z.unknown()).optional(),
});

/** A JSON string cannot be longer in V8 (about 512 MiB). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export class ModelStore {
  // Maps: container ids come from the engine, but image names come from whoever ran the container
  private containers = new Map<string, { image: string; model: unknown }>();
  private images = new Map<string, unknown>();
  /**
   * Containers whose own model the file holds. `containers` keeps only the models not yet taken
   * by a live container (a restored one lives in its model, and is written from it): holding a
   * second copy of every live model between saves doubled the anomaly detector's memory.
   */
  private readonly saved = new Set<string>();
  private dropped = 0;
  /** When the loaded file was written (ms), or -Infinity: models in it have seen everything before. */
  savedAtMs = -Infinity;

  constructor(readonly file: string, private readonly telemetry: Telemetry) {}

  /** Reads the file; a missing or unusable one means no baselines yet (an unusable one is moved aside and said). */
  load(): { containers: number; images: number; quarantined?: string } {
    let data: unknown;
    try {
      const text = readStateFile(this.file, MAX_FILE_BYTES);
      if (text === undefined) return { containers: 0, images: 0 };
      data = JSON.parse(text);
      this.savedAtMs = statSync(this.file).mtimeMs;
    } catch (err) {
      return this.reject(err instanceof SyntaxError ? `not JSON (${err.message})` : (err as Error).message);
    }
    const r = fileSchema.safeParse(data);
    if (!r.success) return this.reject(zodReason(r.error));
    const d = data as { containers?: Record<string, { image: string; model: unknown }>; images?: Record<string, unknown> };
    this.containers = new Map(Object.entries(d.containers ?? {}));
    for (const id of this.containers.keys()) this.saved.add(id);
    this.images = new Map(Object.entries(d.images ?? {}));
    return { containers: this.containers.size, images: this.images.size };
  }

  private reject(reason: string): { containers: number; images: number; quarantined?: string } {
    const aside = quarantine(this.file);
    const where = aside ? `moved to ${aside}` : 'could not be moved aside (the next save replaces it)';
    this.telemetry.event('anomaly.models.quarantined', 'error', `anomaly baselines ${this.file} cannot be used: ${reason}; ${where}. Every container warms up afresh`, { file: { path: aside ?? this.file } });
    this.telemetry.health.degrade('anomaly-models', `${this.file} was unusable (${reason}) and ${where}`);
    return { containers: 0, images: 0, quarantined: aside ?? this.file };
  }

  /** The container's own model, else its image's, else none. A model that is not whole is dropped. */
  lookup(containerId: string, image: string): { model: ModelState; from: 'container' | 'image' } | undefined {
    const own = this.containers.get(containerId);
    if (own) {
      // Taken: from now on the live model is the one saved.
      this.containers.delete(containerId);
      if (this.usable(own.model, `container ${containerId}`)) return { model: own.model, from: 'container' };
      this.saved.delete(containerId);
    }
    const img = this.images.get(image);
    if (img === undefined) return undefined;
    if (this.usable(img, `image ${image}`)) return { model: img, from: 'image' };
    this.images.delete(image);
    return undefined;
  }

  private usable(model: unknown, what: string): model is ModelState {
    const problem = modelStateProblem(model);
    if (problem === undefined) return true;
    if (this.dropped++ === 0) {
      this.telemetry.event('anomaly.model.dropped', 'warn', `anomaly baseline of ${what} in ${this.file} is not usable (${problem}): dropped, its container warms up afresh (further ones are counted, not logged)`);
    } else this.telemetry.count('anomaly.model.dropped');
    return false;
  }

  /** Models dropped as not whole, this run. */
  get droppedModels(): number {
    return this.dropped;
  }

  /** Whether the file holds this container's own model (not yet looked up and dropped). */
  has(containerId: string): boolean {
    return this.saved.has(containerId);
  }

  /** A destroyed container's own model goes; its image's baseline stays. */
  forget(containerId: string): void {
    this.containers.delete(containerId);
    this.saved.delete(containerId);
  }

  /**
   * Writes the live models over the saved ones (saved containers not seen yet this run — stopped
   * ones — are kept); every container in `live` is written by its caller again next time. An image keeps the model with the most samples among its calm containers.
   * Throws when the file cannot be written (the caller says so and tries again on schedule).
   */
  save(live: Array<{ id: string; image: string; model: ModelState; calm: boolean }>): void {
    const containers = new Map(this.containers);
    const images = new Map(this.images);
    for (const c of live) {
      containers.set(c.id, { image: c.image, model: c.model });
      const known = images.get(c.image) as { samples?: unknown } | undefined;
      const knownSamples = typeof known?.samples === 'number' ? known.samples : -1;
      // a container under way of an anomaly must not become its image's norm
      if (c.calm && c.model.samples >= knownSamples) images.set(c.image, c.model);
    }
    privateDir(dirname(this.file));
    writeStateFile(this.file, JSON.stringify({ version: 1, containers: Object.fromEntries(containers), images: Object.fromEntries(images) }));
    for (const c of live) {
      containers.delete(c.id);
      this.saved.add(c.id);
    }
    this.containers = containers;
    this.images = images;
  }
}
