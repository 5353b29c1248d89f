/**
 * Bounds a process's argument list where it is read (the kernel worker, the poller), before it
 * is copied into every document of the process, its children's `parent` and its session's
 * `entry_leader`: a container that execs with a 100 KiB argument a thousand times a second would
 * otherwise make dockward serialise, spool and ship 300 MB/s. The first ARGS_HEAD and the last
 * ARGS_TAIL characters are kept (the windows the detector matches, src/detect/match-window.ts); what
 * lies between becomes one marker argument naming its size, and whether it held padding: a run of
 * PAD_RUN equal characters, the shape of `"$(printf '%17000s')payload"`.
 */
export const ARGS_HEAD = 4096;
export const ARGS_TAIL = 4096;
export const PAD_RUN = 256;
/** Ends the marker argument of a cut that held padding. */
export const PADDING_NOTE = ', padding]…';

export function boundArgs(args: string[]): string[] {
  let total = args.length - 1;
  for (const a of args) total += a.length;
  if (total <= ARGS_HEAD + ARGS_TAIL + 256) return args;
  // Positions in the command line (args joined by one space): the head ends at h, the tail starts at t.
  const h = ARGS_HEAD;
  const t = total - ARGS_TAIL;
  const before: string[] = [];
  const after: string[] = [];
  let hidden = 0;
  let hiddenArgs = 0;
  let padded = false;
  let s = 0;
  for (const a of args) {
    const e = s + a.length;
    if (e <= h) before.push(a);
    else if (s >= t) after.push(a);
    else {
      // This argument reaches into the cut: keep its part in the head and its part in the tail.
      const from = Math.max(0, h - s);
      const to = a.length - Math.max(0, e - t);
      if (from > 0) before.push(a.slice(0, from));
      if (to < a.length) after.push(a.slice(to));
      hidden += to - from;
      hiddenArgs++;
      if (!padded) padded = hasRun(a.slice(from, to));
    }
    s = e + 1;
  }
  const marker = `…[${hidden} characters of ${hiddenArgs} argument${hiddenArgs === 1 ? '' : 's'} not kept${padded ? PADDING_NOTE : ']…'}`;
  return [...before, marker, ...after];
}

export function hasRun(text: string, run = PAD_RUN): boolean {
  let n = 1;
  for (let i = 1; i < text.length; i++) {
    n = text.charCodeAt(i) === text.charCodeAt(i - 1) ? n + 1 : 1;
    if (n >= run) return true;
  }
  return false;
}
