import type Docker from 'dockerode';
import type { Action } from './policy';

export interface ActionResult {
  /** What was done, for the audit message (e.g. "disconnected from lab-net, other"). */
  detail: string;
  networks?: string[];
}

/** The engine calls behind each action. Each is one or a few API calls; errors go to the caller's audit. */
export async function perform(docker: Docker, action: Action, id: string, opts: { stopTimeoutMs: number; killSignal: string }): Promise<ActionResult> {
  const c = docker.getContainer(id);
  switch (action) {
    case 'pause':
      await c.pause();
      return { detail: 'paused' };
    case 'stop':
      await c.stop({ t: Math.ceil(opts.stopTimeoutMs / 1000) });
      return { detail: 'stopped' };
    case 'kill':
      await c.kill({ signal: opts.killSignal });
      return { detail: `killed with ${opts.killSignal}` };
    case 'disconnect': {
      const info = await c.inspect();
      const names = Object.keys(info.NetworkSettings?.Networks ?? {}).filter((n) => n !== 'none');
      // force: the engine disconnects even when the network's driver is gone or unhealthy.
      for (const n of names) await docker.getNetwork(n).disconnect({ Container: id, Force: true });
      return { detail: names.length ? `disconnected from ${names.join(', ')}` : 'had no network to disconnect from', networks: names };
    }
  }
}
