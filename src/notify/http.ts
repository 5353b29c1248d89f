import type { Attempt } from './message';

/**
 * One HTTP POST, classified for the delivery loop: 2xx done; 429 and 5xx (and 408, and no answer
 * at all) worth another try, 429 with the wait its `Retry-After` asks for; any other 4xx final —
 * the same request would be refused again.
 */
export async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  // One controller with a plain timer rather than AbortSignal.any/timeout: on Node 20 a combined
  // signal can be garbage-collected mid-request, and its timeout then never fires (a receiver
  // that never answers would hold the outbox forever).
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const onStop = () => ac.abort();
  signal.addEventListener('abort', onStop, { once: true });
  try {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body, headers, redirect: 'error', signal: ac.signal });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, retry: !signal.aborted, detail: timedOut ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message) };
    }
    // Bounded: a receiver's error page is for the log, not for memory.
    const text = (await res.text().catch(() => '')).slice(0, 300);
    const status = res.status;
    if (status >= 200 && status < 300) return { ok: true, status, detail: text || String(status) };
    const retry = status === 429 || status === 408 || status >= 500;
    return { ok: false, retry, status, retryAfterMs: retryAfter(res.headers.get('retry-after')), detail: `HTTP ${status}${text ? `: ${text}` : ''}` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onStop);
  }
}

/** `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
