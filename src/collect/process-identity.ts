/**
 * Who a process is, from what the kernel says rather than from what the process says (review H3).
 *
 * - argv[0] is whatever the caller of execve chose: `exec -a nginx nc -e /bin/sh …` runs nc with
 *   argv[0] "nginx". A process can also rewrite its own argv at any time (a retitle).
 * - /proc/<pid>/exe is the file the kernel mapped, symlinks resolved (nc → nc.traditional,
 *   sh → dash, python3 → python3.12, an applet → busybox). Nobody can change it after the exec.
 * - comm is the basename of the path execve was given (so a symlink's own name: nc, sh, python3,
 *   modprobe, an applet), set by the kernel at exec and cut at 15 characters; afterwards only the
 *   process itself can change it (prctl, /proc/self/comm: the kernel refuses a write from another
 *   thread group). It is Falco's proc.name.
 *
 * `process.name` is comm as read at the exec (the name the program was run by, which every rule
 * list is written in), completed from argv[0] or the executable when the kernel cut it at 15
 * characters. Read later (a /proc scan, polling, a connection's owner), comm may have been
 * rewritten: one that names neither argv[0] nor the executable gives way to the executable's
 * basename, the one name the process cannot change. Multi-call binaries (busybox, toybox) run
 * the applet argv[0] names (an unknown name makes them fail), so for them argv[0] is the truth.
 *
 * argv[0] stays in `process.args[0]` and `process.title`; `argv0Verdict` tells how far it is from
 * the program, and `ruleCommandLine` builds the `process.command_line` rules see.
 */

/** The kernel keeps 15 characters of comm (TASK_COMM_LEN 16 with its NUL). */
export const COMM_MAX = 15;
/** process.title holds at most this much of argv[0] (its whole value stays in process.args). */
export const TITLE_MAX = 1024;

/** Multi-call binaries that run the applet argv[0] names, when installed where a distribution puts them. */
const MULTI_CALL = new Set(['busybox', 'toybox']);
const SYSTEM_DIR = /^\/(usr\/)?(local\/)?s?bin\/[^/]+$/;
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'yash', 'fish', 'csh', 'tcsh', 'busybox']);
/** What a login shell's argv[0] may say besides its own name ("-su" from shadow's su). */
const LOGIN_NAMES = new Set([...SHELLS, 'su', 'login']);

export interface ProcView {
  args?: string[];
  /** /proc/<pid>/exe as readlink gives it (may end in " (deleted)"). */
  exe?: string;
  comm?: string;
}

/** Who argv[0] says the process is, when that is not quite the program: see argv0Verdict. */
export type Argv0Verdict = 'variant' | 'masquerade';

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** The executable's path without the " (deleted)" readlink adds for an unlinked file. */
export function exePath(exe: string): string {
  return exe.endsWith(' (deleted)') ? exe.slice(0, -10) : exe;
}

export function exeName(exe: string): string {
  return basename(exePath(exe));
}

/** argv[0]'s program name: its basename, without a login shell's leading '-'. */
function argvName(arg0: string): string {
  return basename(arg0.startsWith('-') ? arg0.slice(1) : arg0);
}

/** A retitled argv[0] ("nginx: master process …", "redis-server *:6379"): its first word. */
function titleWord(arg0: string): string {
  const m = /^[^\s:]+/.exec(arg0.startsWith('-') ? arg0.slice(1) : arg0);
  return m ? basename(m[0]) : '';
}

function isMultiCall(exe: string | undefined): boolean {
  return exe !== undefined && MULTI_CALL.has(exeName(exe)) && SYSTEM_DIR.test(exePath(exe));
}

/** The applet a multi-call binary runs: argv[0]'s name, or argv[1]'s for `busybox nc …`. */
function applet(args: string[] | undefined, self: string): string {
  const a0 = args?.[0] ? argvName(args[0]) : '';
  if (!a0) return self;
  if (a0 !== self) return a0;
  const a1 = args?.[1];
  return a1 && !a1.startsWith('-') ? basename(a1) : self;
}

/** comm when it names a program: not "exe" (a re-exec through /proc/self/exe) nor an fd number (fexecve). */
function usableComm(comm: string | undefined, exe: string | undefined): string | undefined {
  if (!comm) return undefined;
  if ((comm === 'exe' || /^\d+$/.test(comm)) && exe !== undefined && exeName(exe) !== comm) return undefined;
  return comm;
}

/** The script a kernel-started interpreter runs: argv is [interpreter, optional #! argument, script, …]. */
function scriptNames(args: string[] | undefined): string[] {
  return (args ?? []).slice(1, 3).map(basename);
}

/** `a` is `name`, or the start the kernel kept of it. */
function exact(a: string, name: string): boolean {
  return a === name || (name.length === COMM_MAX && a.startsWith(name)) || (a.length === COMM_MAX && name.startsWith(a));
}

/** Lower case, without a version suffix: python3.11 ~ python, php-fpm8.2 ~ php-fpm, uWSGI ~ uwsgi. */
function stem(s: string): string {
  return s.slice(0, COMM_MAX).toLowerCase().replace(/[-_.]?\d[\d.]*$/, '');
}

/** The same program loosely: a version or case apart, or one a dotted variant of the other (nc, nc.traditional). */
function loose(a: string, name: string): boolean {
  if (exact(a, name)) return true;
  if (a === '' || name === '') return false;
  return a.startsWith(`${name}.`) || name.startsWith(`${a}.`) || (stem(a) !== '' && stem(a) === stem(name));
}

/**
 * The process's name. `when`: 'exec' for /proc read as the exec is announced (comm is the
 * kernel's), 'running' for a read at any later time (comm may have been rewritten since).
 */
export function processName(p: ProcView, when: 'exec' | 'running'): string | undefined {
  const ex = p.exe !== undefined ? exeName(p.exe) : undefined;
  if (isMultiCall(p.exe)) return applet(p.args, ex!);
  const a0 = p.args?.[0] ? argvName(p.args[0]) : undefined;
  const comm = usableComm(p.comm, p.exe);
  if (comm === undefined) return ex || a0 || undefined;
  // The kernel cut it: the longer name it is the start of (argv[0], the file, a script's name).
  const name = comm.length === COMM_MAX ? [a0, ex, ...scriptNames(p.args)].find((n) => n !== undefined && n.length > COMM_MAX && n.startsWith(comm)) ?? comm : comm;
  if (when === 'running' && ex && !consistent(p, name, ex)) return ex;
  return name;
}

/** comm agrees with argv[0], the executable or the script it runs: not rewritten since (or both rewritten). */
function consistent(p: ProcView, name: string, ex: string): boolean {
  const t = p.args?.[0];
  if (loose(ex, name)) return true;
  if (t !== undefined && (loose(argvName(t), name) || loose(titleWord(t), name))) return true;
  return scriptNames(p.args).some((n) => exact(n, name));
}

/**
 * Does argv[0] name the program `name` (see processName) runs from `exe`?
 * - undefined: yes — its basename (or a retitle's first word) is the name or the file's; a login
 *   shell's "-bash"/"-su"; an interpreter the kernel started for a script (argv[0] the #! line's
 *   absolute path, comm the script's name, the script next in argv); a multi-call binary's applet.
 * - 'variant': nearly — another case or version suffix (uWSGI for uwsgi, php-fpm for php-fpm8.2).
 * - 'masquerade': no (`exec -a nginx nc …`, a miner started as "[kworker/0:1]").
 * Only meaningful for argv as it was at the exec: a process may retitle itself later (see callers).
 */
const RUNC_STAGE = /^runc:\[[0-2]:(PARENT|CHILD|INIT)\]$/;

export function argv0Verdict(args: string[] | undefined, name: string | undefined, exe: string | undefined): Argv0Verdict | undefined {
  const t = args?.[0];
  if (!t || !name || isMultiCall(exe)) return undefined;
  const ex = exe !== undefined ? exeName(exe) : undefined;
  const said = [argvName(t), titleWord(t)];
  if (said.some((a) => exact(a, name) || a === ex)) return undefined;
  if (t.startsWith('-') && LOGIN_NAMES.has(argvName(t)) && (SHELLS.has(name) || (ex !== undefined && SHELLS.has(ex)))) return undefined;
  if (t.startsWith('/') && scriptNames(args).some((n) => exact(n, name))) return undefined;
  // An entrypoint script handing over to a program among its arguments (`exec "$@"`, through gosu,
  // setpriv or su-exec), read by a reader behind the kernel: the name is the next program's, the
  // command line still the script's (benign suite at 192f333: node's entrypoint, once in 28).
  if (t.startsWith('/') && args!.length > 3 && args![1].startsWith('/') && args!.slice(3).some((a) => exact(basename(a), name))) return undefined;
  // The runtime entering a container: runc renames its stages by prctl (nsexec's runc:[0:PARENT],
  // [1:CHILD], [2:INIT]) and re-execs itself from a cloned binary whose exe reads "/" in the container.
  if (argvName(t) === 'runc' && args?.[1] === 'init' && args.length === 2 && RUNC_STAGE.test(name)) return undefined;
  if (said.some((a) => loose(a, name) || (ex !== undefined && loose(a, ex)))) return 'variant';
  return 'masquerade';
}

/**
 * `process.command_line` as rules match it: the command line as run (argv joined by spaces), except
 * that an argv[0] which does not name the program is replaced by the program — its executable's
 * path when that file bears the name, else the name (nc, for nc.traditional run through its
 * symlink). So a rule keyed on the binary (`\bchmod\s`, `^/tmp/`) holds whatever argv[0] says;
 * argv[0] itself is in process.args[0] and process.title.
 */
export function ruleCommandLine(args: string[] | undefined, name: string | undefined, exe: string | undefined, verdict: Argv0Verdict | undefined): string | undefined {
  if (!args) return undefined;
  if (!verdict || !name) return args.join(' ');
  const program = exe !== undefined && exeName(exe) === name ? exePath(exe) : name;
  return [program, ...args.slice(1)].join(' ');
}

/** process.title: argv[0] as given (bounded; process.args keeps all of it). */
export function processTitle(args: string[] | undefined): string | undefined {
  const t = args?.[0];
  return t === undefined ? undefined : t.length > TITLE_MAX ? t.slice(0, TITLE_MAX) : t;
}
