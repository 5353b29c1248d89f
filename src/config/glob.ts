/**
 * Name globs of the configuration (`web-*`, `*-prod`, `dockward-*`): `*` matches any run of
 * characters, newlines included; every other character is literal (no `?`, no classes, no escape).
 * The whole text must match.
 *
 * Matched without a RegExp: the text is often the container's (label values, names), and `.*`
 * between literals backtracks in JS (`*-*-*-prod` against a 4 KB label took 26 s). The pattern is
 * cut at its stars once; the first piece must start the text and the last end it, and each piece
 * in between is taken at its leftmost place after the previous one. Taking the leftmost place is
 * never wrong, as a star can absorb whatever is skipped, so there is no backtracking: one
 * `indexOf` per piece, at worst O(text × pattern), usually linear.
 */
export function glob(pattern: string): (text: string) => boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return (text) => text === pattern;
  const first = parts[0];
  const last = parts[parts.length - 1];
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const least = first.length + last.length + middle.reduce((n, p) => n + p.length, 0);
  return (text) => {
    if (text.length < least || !text.startsWith(first) || !text.endsWith(last)) return false;
    let pos = first.length;
    const end = text.length - last.length;
    for (const p of middle) {
      const at = text.indexOf(p, pos);
      if (at < 0 || at + p.length > end) return false;
      pos = at + p.length;
    }
    return true;
  };
}

/** True when any of the globs matches; built once per list. */
export function anyGlob(patterns: readonly string[]): (text: string) => boolean {
  const ms = patterns.map(glob);
  return (text) => ms.some((m) => m(text));
}
