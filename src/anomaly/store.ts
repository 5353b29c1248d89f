/**
 * Learned baselines on disk, so a restart does not start every container's warm-up again:
 * one JSON file, written atomically (temporary file, fsync, rename) on a node-cron schedule and at
 * shutdown. Keyed by container id, and by image: a container of a known image that dockward has
 * not seen (re-created, scaled out) starts from that image's most experienced model instead of
 * from nothing.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ModelState } from './model';

interface FileShape {
  version: 1;
  containers: Record<string, { image: string; model: ModelState }>;
  images: Record<string, ModelState>;
}

export class ModelStore {
  private data: FileShape = { version: 1, containers: {}, images: {} };

  constructor(readonly file: string) {}

  /** Reads the file; a missing or unreadable one means no baselines yet (said in the result). */
  load(): { containers: number; images: number; error?: string } {
    try {
      const d = JSON.parse(readFileSync(this.file, 'utf8')) as FileShape;
      if (d.version === 1) this.data = { version: 1, containers: d.containers ?? {}, images: d.images ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { containers: 0, images: 0, error: (err as Error).message };
    }
    return { containers: Object.keys(this.data.containers).length, images: Object.keys(this.data.images).length };
  }

  /** The container's own model, else its image's, else none. */
  lookup(containerId: string, image: string): { model: ModelState; from: 'container' | 'image' } | undefined {
    const own = this.data.containers[containerId];
    if (own) return { model: own.model, from: 'container' };
    const img = this.data.images[image];
    return img ? { model: img, from: 'image' } : undefined;
  }

  /** A destroyed container's own model goes; its image's baseline stays. */
  forget(containerId: string): void {
    delete this.data.containers[containerId];
  }

  /**
   * Writes the live models over the saved ones (saved containers not seen yet this run — stopped
   * ones — are kept). An image keeps the model with the most samples among its calm containers.
   */
  save(live: Array<{ id: string; image: string; model: ModelState; calm: boolean }>): void {
    const containers: FileShape['containers'] = { ...this.data.containers };
    const images = { ...this.data.images };
    for (const c of live) {
      containers[c.id] = { image: c.image, model: c.model };
      const known = images[c.image];
      // a container under way of an anomaly must not become its image's norm
      if (c.calm && (!known || c.model.samples >= known.samples)) images[c.image] = c.model;
    }
    this.data = { version: 1, containers, images };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
