import { z } from 'zod';
import { glob } from '../config/glob';

/** `*` matches any run of characters; everything else is literal (src/config/glob.ts). */
export { glob };

/**
 * Containers picked by label, image or name (any one of them matching is enough). Label values,
 * images and names are globs; a label given without a value (`key: "*"`) only has to be present.
 * Shared by notification routes and by the responder's allow and deny lists.
 */
export const containerSelector = z
  .object({
    labels: z.record(z.string(), z.string()).default({}),
    images: z.array(z.string()).default([]),
    names: z.array(z.string()).default([]),
  })
  .strict()
  .prefault({});
export type ContainerSelector = z.output<typeof containerSelector>;

export interface ContainerFacts {
  id?: string;
  name?: string;
  image?: string;
  labels?: Record<string, string>;
}

export function containerOf(doc: Record<string, unknown>): ContainerFacts {
  const c = (doc.container ?? {}) as { id?: string; name?: string; image?: { name?: string }; labels?: Record<string, string> };
  return { id: c.id, name: c.name, image: c.image?.name, labels: c.labels ?? {} };
}

export class Selector {
  private readonly labels: Array<[string, (s: string) => boolean]>;
  private readonly images: Array<(s: string) => boolean>;
  private readonly names: Array<(s: string) => boolean>;

  constructor(cfg: ContainerSelector) {
    this.labels = Object.entries(cfg.labels).map(([k, v]) => [k, glob(v)]);
    this.images = cfg.images.map(glob);
    this.names = cfg.names.map(glob);
  }

  get empty(): boolean {
    return !this.labels.length && !this.images.length && !this.names.length;
  }

  /** Why `c` is selected (e.g. `label team=infra`), or undefined. */
  why(c: ContainerFacts): string | undefined {
    for (const [k, m] of this.labels) {
      const v = c.labels?.[k];
      if (v !== undefined && m(v)) return `label ${k}=${v}`;
    }
    if (c.image && this.images.some((m) => m(c.image!))) return `image ${c.image}`;
    if (c.name && this.names.some((m) => m(c.name!))) return `name ${c.name}`;
    return undefined;
  }
}
