import type Docker from 'dockerode';
import { fail, pass, type Check } from './check';
import { isRoot } from './container-checks';

/**
 * Section 4 items the image's own configuration answers. The others (trusted base, packages,
 * scanning, content trust, setuid files, ADD vs COPY, secrets in the Dockerfile) need the build
 * file, the registry or the image's files: see docs/posture.md.
 */
export type ImageInput = Docker.ImageInspectInfo;

const SECTION = '4 Container Images and Build File';

export const IMAGE_CHECKS: Array<Check<ImageInput>> = [
  {
    id: '4.1', title: 'Ensure that a user for the container has been created', section: SECTION, level: 1, automated: true, severity: 'medium', resource: 'image',
    rationale: 'An image without a USER runs as root unless every `docker run` remembers --user.',
    remediation: 'Add a user in the Dockerfile and switch to it: RUN useradd … && USER <name>.',
    evaluate: (img) => (isRoot(img.Config?.User) ? fail(`image user ${img.Config?.User || 'not set (root)'}`) : pass(`image user ${img.Config.User}`)),
  },
  {
    id: '4.6', title: 'Ensure that HEALTHCHECK instructions have been added to container images', section: SECTION, level: 1, automated: true, severity: 'low',
    resource: 'image',
    rationale: 'A HEALTHCHECK in the image lets the engine tell a running but broken container from a working one.',
    remediation: 'Add a HEALTHCHECK instruction to the Dockerfile.',
    evaluate: (img) => {
      const t = (img.Config as { Healthcheck?: { Test?: string[] } } | undefined)?.Healthcheck?.Test;
      return t?.length && t[0] !== 'NONE' ? pass(`HEALTHCHECK ${t.join(' ')}`) : fail('no HEALTHCHECK');
    },
  },
];
