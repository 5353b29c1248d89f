import { readFileSync } from 'node:fs';

const ID = /[0-9a-f]{64}/;

/**
 * The id of the container dockward runs in, if any. mountinfo first: the engine bind-mounts
 * /etc/hostname, /etc/hosts and /etc/resolv.conf from /var/lib/docker/containers/<id>/, which holds
 * under cgroup v2 too, where /proc/self/cgroup only says "0::/". cgroup v1 paths are the fallback.
 */
export function ownContainerId(procRoot = '/proc/self'): string | undefined {
  const read = (f: string) => {
    try {
      return readFileSync(`${procRoot}/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  for (const line of read('mountinfo').split('\n')) {
    const m = /\/containers\/([0-9a-f]{64})\/(hostname|hosts|resolv\.conf)/.exec(line);
    if (m) return m[1];
  }
  for (const line of read('cgroup').split('\n')) {
    if (!/docker|containerd|moby/.test(line)) continue;
    const m = ID.exec(line);
    if (m) return m[0];
  }
  return undefined;
}
