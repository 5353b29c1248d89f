import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { BUSYBOX, LAB } from '../engines';
import type { BenignScenario } from './scenarios';

export const BASE = { busybox: BUSYBOX, lab: LAB } as const;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The image a benign scenario runs, named after the run so that the run's cleanup finds it. */
export function benignImage(ns: string, s: BenignScenario): string {
  return `dockward-suite-${ns}/${s.id}:1`;
}

/**
 * Builds a benign scenario's image (its base, its build steps, its files), as the official image
 * carries its entrypoint: files baked into an image are not drift, files a container writes are.
 * Built before dockward starts, so the build's own containers are nobody's evidence.
 */
export async function buildBenignImage(docker: Docker, ns: string, s: BenignScenario): Promise<string> {
  const tag = benignImage(ns, s);
  const dir = mkdtempSync(join(tmpdir(), 'dockward-suite-'));
  try {
    const paths = Object.keys(s.files);
    for (const p of paths) {
      const local = join(dir, 'rootfs', p);
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(local, s.files[p]);
      // Scripts keep their mode through COPY: the entrypoint is executable in the image, as shipped.
      chmodSync(local, s.files[p].startsWith('#!') ? 0o755 : 0o644);
    }
    // One RUN at most: the engine here stores every layer as a full copy (vfs).
    // The official images' PATH (the busybox base has /bin only): entrypoints live in /usr/local/bin.
    const lines = [`FROM ${BASE[s.image]}`, `ENV PATH=${PATH}`, ...(paths.length ? ['COPY rootfs/ /'] : []), ...(s.build.length ? [`RUN ${s.build.join(' && ')}`] : [])];
    writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
    const src = ['Dockerfile', ...(paths.length ? ['rootfs'] : [])];
    const stream = await docker.buildImage({ context: dir, src }, { t: tag, rm: true, forcerm: true, networkmode: 'none' });
    const out = await new Promise<Array<{ error?: string }>>((resolve, reject) => docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res as Array<{ error?: string }>))));
    const failed = out.find((m) => m.error);
    if (failed) throw new Error(`building the image of benign scenario ${s.id}: ${failed.error}`);
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes every image a run built. */
export async function removeSuiteImages(docker: Docker, ns: string): Promise<void> {
  const images = await docker.listImages();
  const mine = images.filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`dockward-suite-${ns}/`)));
  for (const i of mine) await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
}

/**
 * The vfs storage driver makes every container's root directory 0700 (a layer cannot change it),
 * so no non-root user can run anything: a postgres entrypoint's drop to `postgres` fails on
 * libc. Overlay2, what hosts run, gives the image's 0755; the container gets that from the host
 * side before it starts, so that privilege drops behave as they do in production.
 */
export async function openRootDirectory(docker: Docker, id: string): Promise<void> {
  const info = (await docker.info()) as { Driver?: string; DockerRootDir?: string };
  if (info.Driver !== 'vfs' || !info.DockerRootDir) return;
  const mount = readFileSync(join(info.DockerRootDir, 'image', 'vfs', 'layerdb', 'mounts', id, 'mount-id'), 'utf8').trim();
  chmodSync(join(info.DockerRootDir, 'vfs', 'dir', mount), 0o755);
}
