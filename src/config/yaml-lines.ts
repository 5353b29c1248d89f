import { isMap, type Document, type LineCounter } from 'yaml';

/**
 * The line of the YAML node at `path` (or of its key, when the value is missing), walking up to
 * the nearest ancestor that exists: so an error about `a.b.c` points at the line a user must edit.
 */
export function lineOf(doc: Document, lines: LineCounter, path: Array<string | number>): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
    const parent = n > 1 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((it) => String((it.key as { value?: unknown })?.value) === String(path[n - 1]));
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    }
  }
  return undefined;
}
