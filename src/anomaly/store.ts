/**
 * Learned baselines on disk, so a restart does not start every container's warm-up again: one
 * file per container and per image under `<state_dir>/anomaly-models/`, each written atomically
 * (state-file.ts: a new 0600 temporary file, fsync, rename) on a node-cron schedule and at
 * shutdown, and only when its model learned something since it was last written. A container of
 * a known image that dockward has not seen (re-created, scaled out) starts from that image's most
 * experienced model instead of from nothing.
 *
 * Why files, not one: a busy container's model is about a megabyte of JSON, so one file for 100
 * containers was a 100 MB string built on the main thread every five minutes (and V8's string
 * limit, 512 MiB, was the limit on how many containers could keep a baseline). Models are read
 * when their container first appears, never held here.
 *
 * Every file is untrusted input: one that is not JSON, not this shape, or not a whole model
 * (model-state.ts) is dropped when first looked up — moved aside, counted, said once — and only
 * its container warms up afresh. The single file of earlier versions (`anomaly-models.json`) is
 * migrated at load; one that cannot be used is moved aside as before (said, /health degraded).
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { Telemetry } from '../telemetry/telemetry';
import { privateDir, quarantine, readStateFile, writeStateFile, zodReason } from '../state/state-file';
import type { ModelState } from './model';
import { modelStateProblem } from './model-state';

const legacySchema = z.strictObject({
  version: z.literal(1),
  containers: z.record(z.string(), z.object({ image: z.string(), model: z.unknown() })).optional(),
  images: z.record(z.string(), z.unknown()).optional(),
});
const fileSchema = z.strictObject({ version: z.literal(1), image: z.string(), model: z.unknown() });

/** A JSON string cannot be longer in V8 (about 512 MiB). */
const MAX_LEGACY_BYTES = 512 * 1024 * 1024;
/** Far above a model at its context cap (a few MB). */
const MAX_MODEL_BYTES = 64 * 1024 * 1024;
const NAME = /^[ci]-[0-9a-f]{1,64}\.json$/;

export interface LiveModel {
  id: string;
  image: string;
  /** samples learned: the file is written again only when they changed */
  samples: number;
  /** not under way of an anomaly: may become its image's baseline */
  calm: boolean;
  snapshot: () => ModelState;
  /** still the detector's when its turn to be written comes (a destroyed container's file stays gone) */
  live?: () => boolean;
}

/** A file name from an id or image name: engine ids as they are, anything else by digest. */
function fileName(kind: 'c' | 'i', key: string): string {
  const k = kind === 'c' && /^[0-9a-f]{12,64}$/.test(key) ? key : createHash('sha1').update(key).digest('hex');
  return `${kind}-${k}.json`;
}

export class ModelStore {
  readonly dir: string;
  private readonly legacy: string;
  /** file name → its modification time at load (ms): a start before it is one the model lived through */
  private readonly loadedAt = new Map<string, number>();
  /** container and image files that exist */
  private readonly files = new Set<string>();
  /** image → samples of its saved baseline */
  private readonly imageSamples = new Map<string, number>();
  /** file name → samples when this run last wrote it */
  private readonly written = new Map<string, number>();
  private dropped = 0;
  private migrated = false;

  constructor(stateDir: string, private readonly telemetry: Telemetry) {
    this.dir = join(stateDir, 'anomaly-models');
    this.legacy = join(stateDir, 'anomaly-models.json');
  }

  /** Lists the saved models (reading only the image baselines' sample counts); migrates a legacy file. */
  load(): { containers: number; images: number; quarantined?: string } {
    let names: string[];
    try {
      privateDir(this.dir);
      names = readdirSync(this.dir);
    } catch (err) {
      // a file in its place, no permission: no baselines this run, said (the save will say it again)
      this.telemetry.event('anomaly.models.unreadable', 'error', `anomaly baselines in ${this.dir} cannot be read: ${(err as Error).message}. Every container warms up afresh`);
      this.telemetry.health.degrade('anomaly-models', `${this.dir} cannot be read: ${(err as Error).message}`);
      return { containers: 0, images: 0 };
    }
    const quarantined = this.migrate();
    if (this.migrated) names = readdirSync(this.dir);
    for (const name of names) {
      if (!NAME.test(name)) continue;
      this.files.add(name);
      this.loadedAt.set(name, statSync(join(this.dir, name)).mtimeMs);
      if (name.startsWith('i-')) {
        const f = this.read(name, 'an image baseline');
        if (f) this.imageSamples.set(f.image, (f.model as { samples?: number }).samples ?? 0);
      }
    }
    const containers = [...this.files].filter((n) => n.startsWith('c-')).length;
    return { containers, images: this.imageSamples.size, ...(quarantined ? { quarantined } : {}) };
  }

  /** The single file of earlier versions becomes one file per model, then goes. */
  private migrate(): string | undefined {
    let data: unknown;
    try {
      const text = readStateFile(this.legacy, MAX_LEGACY_BYTES);
      if (text === undefined) return undefined;
      data = JSON.parse(text);
    } catch (err) {
      return this.reject(err instanceof SyntaxError ? `not JSON (${err.message})` : (err as Error).message);
    }
    const r = legacySchema.safeParse(data);
    if (!r.success) return this.reject(zodReason(r.error));
    for (const [id, c] of Object.entries(r.data.containers ?? {})) this.write(fileName('c', id), c.image, JSON.stringify(c.model));
    for (const [image, model] of Object.entries(r.data.images ?? {})) this.write(fileName('i', image), image, JSON.stringify(model));
    unlinkSync(this.legacy);
    this.migrated = true;
    return undefined;
  }

  private reject(reason: string): string {
    const aside = quarantine(this.legacy);
    const where = aside ? `moved to ${aside}` : 'could not be moved aside';
    this.telemetry.event('anomaly.models.quarantined', 'error', `anomaly baselines ${this.legacy} cannot be used: ${reason}; ${where}. Every container warms up afresh`, { file: { path: aside ?? this.legacy } });
    this.telemetry.health.degrade('anomaly-models', `${this.legacy} was unusable (${reason}) and ${where}`);
    return aside ?? this.legacy;
  }

  /** The container's own model, else its image's, else none. A file that is not whole is dropped. */
  lookup(containerId: string, image: string): { model: ModelState; from: 'container' | 'image' } | undefined {
    const own = this.read(fileName('c', containerId), `container ${containerId}`);
    if (own) return { model: own.model as ModelState, from: 'container' };
    if (!this.imageSamples.has(image)) return undefined;
    const img = this.read(fileName('i', image), `image ${image}`);
    if (img && img.image === image) return { model: img.model as ModelState, from: 'image' };
    if (!img) this.imageSamples.delete(image);
    return undefined;
  }

  private read(name: string, what: string): z.infer<typeof fileSchema> | undefined {
    if (!this.files.has(name)) return undefined;
    const path = join(this.dir, name);
    let problem: string | undefined;
    try {
      const text = readStateFile(path, MAX_MODEL_BYTES);
      if (text === undefined) {
        this.files.delete(name);
        return undefined;
      }
      const r = fileSchema.safeParse(JSON.parse(text));
      problem = r.success ? modelStateProblem(r.data.model) : zodReason(r.error);
      if (r.success && problem === undefined) return r.data;
    } catch (err) {
      problem = err instanceof SyntaxError ? `not JSON (${err.message})` : (err as Error).message;
    }
    this.files.delete(name);
    const aside = quarantine(path);
    if (this.dropped++ === 0) {
      this.telemetry.event('anomaly.model.dropped', 'warn', `anomaly baseline of ${what} (${path}) is not usable (${problem}): ${aside ? `moved to ${aside}` : 'dropped'}, its container warms up afresh (further ones are counted, not logged)`);
    } else this.telemetry.count('anomaly.model.dropped');
    return undefined;
  }

  /** Models dropped as not whole, this run. */
  get droppedModels(): number {
    return this.dropped;
  }

  /** When the container's own model was last written before this run, if it was. */
  savedAt(containerId: string): number | undefined {
    return this.loadedAt.get(fileName('c', containerId));
  }

  /** A destroyed container's own model goes; its image's baseline stays. */
  forget(containerId: string): void {
    const name = fileName('c', containerId);
    this.files.delete(name);
    this.written.delete(name);
    this.loadedAt.delete(name);
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // never written, or gone already
    }
  }

  /**
   * Writes every live model that learned since it was last written, one file at a time with the
   * event loop served between them. An image's baseline becomes the calm model with the most
   * samples. Throws on the first file that cannot be written (the caller says so and tries again
   * on schedule; the rest are written then).
   */
  async save(live: LiveModel[]): Promise<number> {
    privateDir(this.dir);
    let n = 0;
    for (const c of live) {
      const name = fileName('c', c.id);
      // a container under way of an anomaly must not become its image's norm
      const norm = c.calm && c.samples > (this.imageSamples.get(c.image) ?? -1);
      if ((this.written.get(name) === c.samples && !norm) || c.live?.() === false) continue;
      const model = JSON.stringify(c.snapshot());
      this.write(name, c.image, model);
      this.written.set(name, c.samples);
      if (norm) {
        this.write(fileName('i', c.image), c.image, model);
        this.imageSamples.set(c.image, c.samples);
      }
      n++;
      await yieldToLoop();
    }
    return n;
  }

  private write(name: string, image: string, modelJson: string): void {
    writeStateFile(join(this.dir, name), `{"version":1,"image":${JSON.stringify(image)},"model":${modelJson}}`);
    this.files.add(name);
  }
}
