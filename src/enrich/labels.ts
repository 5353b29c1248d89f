/**
 * Bounds on the container labels copied into documents. Labels are chosen by whoever builds the
 * image or runs the container, and every document of the container carries them: 100k labels made
 * a 2-byte log line a 1.26 MB document, and a key over 32 KB made Elasticsearch refuse every
 * document of the container (the flattened field's immense-term limit), alerts included.
 */
export const LABEL_LIMITS = {
  /** Labels kept per container: `dockward.*` first (dockward reads those), then by key. */
  count: 128,
  /** A longer key is left out: a cut key could collide with another. */
  keyBytes: 256,
  /** A longer value is cut to this many UTF-8 bytes. */
  valueBytes: 1024,
} as const;

/** What was left out of a container's labels; absent when nothing was. */
export interface LabelTruncation {
  /** Labels the container has. */
  total: number;
  /** Left out: past the count, a key too long, or not a string. */
  dropped: number;
  /** Kept with the value cut to LABEL_LIMITS.valueBytes. */
  cut: number;
  /** Size of the longest key and value seen, for the analyst: UTF-8 bytes, or code units when short. */
  longestKey: number;
  longestValue: number;
}

export interface BoundedLabels {
  labels: Record<string, string>;
  truncated?: LabelTruncation;
}

const OWN = 'dockward.';

/** `a` before `b`: dockward's own labels first, then code-unit order (deterministic). */
function before(a: string, b: string): boolean {
  const ao = a.startsWith(OWN);
  return ao !== b.startsWith(OWN) ? ao : a < b;
}

/**
 * At most LABEL_LIMITS.count labels, keys ≤ keyBytes, values ≤ valueBytes. Picks the first keys
 * in `before` order in one pass with a bounded heap, so 100k labels cost no sort of 100k keys.
 * Labels within the limits come back as the same object.
 */
export function boundLabels(raw: Record<string, unknown> | null | undefined, limits = LABEL_LIMITS): BoundedLabels {
  if (!raw || typeof raw !== 'object') return { labels: {} };
  const keys = Object.keys(raw);
  let dropped = 0;
  let cut = 0;
  let longestKey = 0;
  let longestValue = 0;
  // Max-heap (by `before`) of the keys kept so far: its root is the first to go.
  const heap: string[] = [];
  for (const k of keys) {
    const v = raw[k];
    // Exact UTF-8 sizes only where they can matter: a string of n code units is n..3n bytes.
    const kb = k.length * 3 <= limits.keyBytes ? k.length : Buffer.byteLength(k);
    if (kb > longestKey) longestKey = kb;
    if (typeof v !== 'string' || kb > limits.keyBytes) {
      dropped++;
      continue;
    }
    const vb = v.length * 3 <= limits.valueBytes ? v.length : Buffer.byteLength(v);
    if (vb > longestValue) longestValue = vb;
    if (heap.length < limits.count) heapPush(heap, k);
    else {
      dropped++;
      if (before(k, heap[0])) heapReplaceTop(heap, k);
    }
  }
  if (dropped === 0 && longestValue <= limits.valueBytes) return { labels: raw as Record<string, string> };
  heap.sort((a, b) => (before(a, b) ? -1 : 1));
  // fromEntries defines own properties: a label named __proto__ stays a label, not a prototype.
  const labels = Object.fromEntries(
    heap.map((k) => {
      const v = raw[k] as string;
      const bounded = utf8Prefix(v, limits.valueBytes);
      if (bounded !== v) cut++;
      return [k, bounded];
    }),
  );
  return { labels, truncated: { total: keys.length, dropped, cut, longestKey, longestValue } };
}

function heapPush(h: string[], k: string): void {
  h.push(k);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[p], h[i])) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function heapReplaceTop(h: string[], k: string): void {
  h[0] = k;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && before(h[m], h[l])) m = l;
    if (r < h.length && before(h[m], h[r])) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i], h[m]];
    i = m;
  }
}

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes; never splits a surrogate pair. */
export function utf8Prefix(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    let n = 3;
    let w = 1;
    if (c < 0x80) n = 1;
    else if (c < 0x800) n = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n = 4;
      w = 2;
    }
    // A lone surrogate is 3 bytes (U+FFFD) in Buffer.byteLength and in the bytes written.
    if (bytes + n > maxBytes) break;
    bytes += n;
    i += w;
  }
  return i === s.length ? s : s.slice(0, i);
}

/** The tamper report's detail for a truncation: counts and sizes only. */
export function truncationDetail(t: LabelTruncation): string {
  return `${t.total} labels: ${t.dropped} left out, ${t.cut} values cut (longest key ${t.longestKey} B, longest value ${t.longestValue} B; limits ${LABEL_LIMITS.count} labels, ${LABEL_LIMITS.keyBytes} B keys, ${LABEL_LIMITS.valueBytes} B values)`;
}
