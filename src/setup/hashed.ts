import { createHash } from 'node:crypto';
import { VERSION } from '../version';
import type { StepResult, StepStatus } from './step';

/** A short hash of what dockward wants to write (and its version): equal hash, nothing to write. */
export function hashOf(body: unknown): string {
  return createHash('sha256').update(JSON.stringify({ body, VERSION })).digest('hex').slice(0, 16);
}

/** Why a request failed, in one line: Elasticsearch's reason when there is one. */
export function reasonOf(err: unknown): string {
  const e = err as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } | string } }; message?: string };
  const b = e.meta?.body?.error;
  if (b && typeof b === 'object') return `${b.type ?? 'error'}: ${b.reason ?? ''}`.trim();
  if (typeof b === 'string') return b;
  return e.message ?? String(err);
}

export function statusCode(err: unknown): number | undefined {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode;
}

/**
 * Writes one object idempotently: reads the stored hash, writes only when it differs.
 * `read` returns the stored hash, null when the object is absent.
 */
export async function putIfChanged(step: string, target: string, hash: string, read: () => Promise<string | null | undefined>, write: () => Promise<unknown>, detail = ''): Promise<StepResult> {
  const current = await read();
  if (current === hash) return { step, target, status: 'unchanged', message: 'up to date' };
  await write();
  const status: StepStatus = current === null ? 'created' : 'updated';
  return { step, target, status, message: detail || 'installed' };
}

export const skipped = (step: string, target: string, message: string): StepResult => ({ step, target, status: 'skipped', message });
