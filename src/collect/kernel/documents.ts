import { containerFields } from '../../enrich/ecs';
import type { ContainerMeta } from '../../enrich/metadata';
import { deterministicId } from '../../ship/envelope';
import type { Envelope } from '../../ship/envelope';
import { processTitle, ruleCommandLine } from '../process-identity';
import type { ProcessFact } from './process-table';

export const DATASET = 'dockward.process';

/**
 * The `_id` of a process start or end document, shared with the processes (`top`) collector: the
 * container, the host pid and the start time (ms) identify a process, so polling and the kernel
 * name the same process alike and whichever arrives second is a 409. A later exec of the same pid
 * (a shell that execs its last command) is a new image: the kernel's start id for it adds the
 * kernel's exec time (polling, which sees one image per process, keeps the first id).
 */
export function processDocId(containerId: string, pid: number, startMs: number, type: 'start' | 'end', execTs?: bigint): string {
  return execTs === undefined ? deterministicId(containerId, pid, startMs, type) : deterministicId(containerId, pid, startMs, type, `exec@${execTs}`);
}

export interface DocContext {
  index: string;
  base: Record<string, unknown>;
  meta: ContainerMeta | undefined;
  execId?: string;
  userName?: (uid: number) => string | undefined;
  /** Kernel CLOCK_MONOTONIC ns → ms since the epoch. */
  wallMs: (ts: bigint) => number;
  now: number;
}

/**
 * One fact as the ECS process document polling writes (`event.provider: kernel`). `process.name`
 * is the kernel's name for the program and `process.command_line` starts with the program even
 * when argv[0] names another (process-identity.ts); argv[0] is `process.title` and `process.args[0]`.
 */
export function processDocument(f: ProcessFact, c: DocContext): Envelope {
  const when = f.ts !== undefined ? c.wallMs(f.ts) : c.now;
  const start = f.type === 'start';
  const name = f.name;
  const cmd = ruleCommandLine(f.args, name, f.executable, f.argv0);
  const title = processTitle(f.args);
  const masquerade = f.argv0 === 'masquerade';
  const what = cmd !== undefined
    ? `${cmd}${masquerade ? ` (started as ${JSON.stringify(title!.slice(0, 64))})` : ''}`
    : `${name ?? 'unknown'} (pid ${f.pid}, exited before /proc was read)`;
  const exit = f.exit ? ` (exit ${f.exit.code}${f.exit.signal ? `, signal ${f.exit.signal}` : ''})` : '';
  const user = f.euid ?? f.uid;
  const userName = user !== undefined ? c.userName?.(user) : undefined;
  const p = f.parent;
  const l = f.leader;
  const doc: Record<string, unknown> = {
    '@timestamp': new Date(start && f.scan === 'first' ? c.now : when).toISOString(),
    message: `${start ? 'process started' : 'process ended'}${f.folded && f.folded.count > 1 ? ` ${f.folded.count} times (folded: over the container's document budget)` : ''}: ${what}${exit}`,
    event: {
      kind: 'event', category: ['process'], type: [f.type], action: start ? 'process_started' : 'process_ended',
      provider: 'kernel', dataset: DATASET, module: 'dockward', created: new Date(c.now).toISOString(),
      ...(!start ? { duration: f.durationNs ?? Math.max(0, Math.round((when - f.start) * 1_000_000)) } : {}),
    },
    process: {
      pid: f.pid,
      vpid: f.vpid,
      name,
      title: f.noexec ? undefined : title,
      executable: f.noexec ? undefined : f.executable,
      args: f.noexec ? undefined : f.args,
      command_line: f.noexec ? undefined : cmd,
      working_directory: f.cwd,
      start: new Date(f.start).toISOString(),
      ...(!start ? { end: new Date(when).toISOString(), exit_code: f.exit?.code } : {}),
      parent: p
        ? { pid: p.pid, vpid: p.vpid, name: p.name, title: processTitle(p.args), executable: p.executable, command_line: ruleCommandLine(p.args, p.name, p.executable, p.argv0), args: p.args }
        : undefined,
      user: user !== undefined ? { id: String(user), name: userName } : undefined,
      real_user: f.uid !== undefined && f.uid !== user ? { id: String(f.uid), name: c.userName?.(f.uid) } : undefined,
      group: f.gid !== undefined ? { id: String(f.gid) } : undefined,
      entry_leader: { pid: l.pid, vpid: l.vpid, name: l.name, executable: l.executable, args: l.args, start: l.start !== undefined ? new Date(l.start).toISOString() : undefined },
      entry_meta: { type: c.execId ? 'exec' : l.vpid === 1 ? 'init' : 'unknown' },
    },
    container: c.meta ? containerFields(c.meta) : { id: f.container, runtime: 'docker' },
    dockward: {
      process: {
        start_exact: f.startExact,
        // Where a start's argv, executable, directory and ids came from: the syscall's audit records or
        // /proc (an end repeats what its start had, whatever the source).
        source: f.source ?? (start ? 'proc' : undefined),
        exit_race: f.exitRace,
        noexec: f.noexec,
        fork_only: f.forkOnly,
        first_snapshot: f.scan === 'first' || undefined,
        resync: f.scan === 'resync' || undefined,
        image: f.image > 0 ? f.image : undefined,
        exit_signal: f.exit?.signal,
        argv0_mismatch: (!f.noexec && masquerade) || undefined,
        folded: f.folded ? { count: f.folded.count, last: new Date(f.folded.last !== undefined ? c.wallMs(f.folded.last) : when).toISOString() } : undefined,
      },
      ...(c.execId ? { exec: { id: c.execId } } : {}),
    },
    ...c.base,
  };
  return {
    index: c.index,
    id: processDocId(f.container, f.pid, f.start, f.type, start && f.image > 0 ? f.ts : undefined),
    doc,
  };
}
