/**
 * What the process table knows and hands on: its entries and the facts (process starts and ends)
 * the collector turns into documents. Apart from the table so it stays readable.
 */
import type { Argv0Verdict } from '../process-identity';

/** The process that entered the container: its init, or the root of a `docker exec` session. */
export interface Leader {
  pid: number;
  vpid?: number;
  name?: string;
  args?: string[];
  executable?: string;
  start?: number;
  container: string;
}

/** Who a process is, as /proc shows it: the same in the table's entry and in the fact it hands on. */
export interface ProcessIdentity {
  vpid?: number;
  args?: string[];
  executable?: string;
  /** The program's name from the kernel, not from argv[0] (process-identity.ts). */
  name?: string;
  /** How far argv[0] is from the program, judged at the exec; undefined: it names it (or not an exec's argv). */
  argv0?: Argv0Verdict;
  cwd?: string;
  uid?: number;
  euid?: number;
  gid?: number;
}

/** What the table knows about one container process (host pid). */
export interface Entry extends ProcessIdentity {
  pid: number;
  ppid: number;
  container: string;
  start?: number;
  startExact: boolean;
  forkTs?: bigint;
  /** Images seen: execs (and busybox-style comm changes of a forked child that never execs). */
  execs: number;
  /** A start fact went out, so an end fact is due. */
  started: boolean;
  leader: Leader;
}

export interface ParentInfo {
  pid: number;
  vpid?: number;
  name?: string;
  argv0?: Argv0Verdict;
  args?: string[];
  executable?: string;
  start?: number;
}

/** One process start or end, with everything known; the collector turns it into a document. */
export interface ProcessFact extends ProcessIdentity {
  type: 'start' | 'end';
  container: string;
  pid: number;
  /** ms since the epoch; identifies the process together with pid and container. */
  start: number;
  startExact: boolean;
  /** 0 for the first image seen of this process, then 1, 2 … (a later exec of the same pid). */
  image: number;
  /** Kernel time of the exec / exit (CLOCK_MONOTONIC ns), when the fact comes from an event. */
  ts?: bigint;
  parent?: ParentInfo;
  leader: Leader;
  exit?: { code: number; signal?: number };
  /** Fork to exit from the kernel's own timestamps, when the fork was seen. */
  durationNs?: number;
  /** The process exited before /proc could be read: only what the events and the parent tell. */
  exitRace?: boolean;
  /** A forked child that changed its name without exec (busybox runs applets so): args are its parent's. */
  noexec?: boolean;
  /**
   * A forked child that neither exec'd nor changed its name within FORK_GRACE_NS (a subshell, an
   * nginx or postgres worker): it runs its parent's image, args as /proc shows them.
   */
  forkOnly?: boolean;
  /** From a /proc scan (at start or after the kernel dropped events), not from an event. */
  scan?: 'first' | 'resync';
  /**
   * Where argv, executable, directory and ids of an exec came from: the kernel's audit records of
   * the syscall (race-free, src/collect/audit/) or /proc read at the exec event (the fallback).
   */
  source?: 'audit' | 'proc';
  /** Over the container's document budget (flood.ts): this start stands for `count` identical ones, the last at `last`. */
  folded?: { count: number; last?: bigint };
}

export interface TableStats {
  execs: number;
  execsContainer: number;
  cmdlineRead: number;
  exitRace: number;
  unattributed: number;
  forks: number;
  exits: number;
  noexec: number;
  /** Forked children documented without an exec (forkOnly). */
  forkOnly: number;
  evicted: number;
  /** Entries whose process ended unseen and whose pid a new process took (found at fork, exec or resync). */
  reused: number;
}

/** What holding a command line costs in memory, bytes: its arguments and a fixed part (bounds of held facts and events). */
export function argBytes(args: readonly string[] | undefined): number {
  let n = 256;
  if (args) for (const a of args) n += a.length;
  return n;
}
