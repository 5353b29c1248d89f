import type { Client } from '@elastic/elasticsearch';
import type { QueryDslQueryContainer } from '@elastic/elasticsearch/lib/api/types';

export async function count(client: Client, index: string, query?: QueryDslQueryContainer): Promise<number> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const res = await client.count({ index, query, ignore_unavailable: true, allow_no_indices: true });
  return res.count;
}

/**
 * Polls until `index` holds at least `expected` matching documents, or the time is up. `watch`
 * throws when the process that should deliver them has died, so a broken run fails at once.
 */
export async function waitForCount(client: Client, index: string, expected: number, timeoutMs: number, query?: QueryDslQueryContainer, watch?: () => void): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = 0;
  for (;;) {
    watch?.();
    // Right after a data stream is made, or while the node restarts in a drill, a search may find
    // no active shard: that is "not yet", not a failure (the deadline still bounds the wait).
    n = await count(client, index, query).catch((err: { meta?: { statusCode?: number } }) => {
      if (err.meta?.statusCode === 503 || /no_shard_available|unavailable_shards/.test(String(err))) return n;
      throw err;
    });
    if (n >= expected || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every matching document's _source (scrolled: exact, not a sample). */
export async function fetchAll<T = Record<string, unknown>>(client: Client, index: string, query?: QueryDslQueryContainer): Promise<Array<T & { _id: string }>> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const out: Array<T & { _id: string }> = [];
  let res = await client.search<T>({ index, query, size: 5000, scroll: '1m', sort: ['_doc'], ignore_unavailable: true });
  while (res.hits.hits.length > 0) {
    for (const h of res.hits.hits) out.push({ ...(h._source as T), _id: h._id as string });
    res = await client.scroll<T>({ scroll_id: res._scroll_id as string, scroll: '1m' });
  }
  if (res._scroll_id) await client.clearScroll({ scroll_id: res._scroll_id }).catch(() => undefined);
  return out;
}

/**
 * The alert documents of one container once every rule in `want` has alerted on it, or what is
 * there when `timeoutMs` runs out (the caller asserts, naming what is missing).
 */
export async function waitForRules<T extends { rule: { id: string } }>(client: Client, index: string, containerId: string, want: string[], timeoutMs: number): Promise<T[]> {
  const end = Date.now() + timeoutMs;
  let alerts: T[] = [];
  while (Date.now() < end) {
    alerts = await fetchAll<T>(client, index, { term: { 'container.id': containerId } }).catch(() => []);
    if (want.every((r) => alerts.some((a) => a.rule.id === r))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return alerts;
}
