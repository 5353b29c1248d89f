import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DockwardError } from '../errors';

/**
 * A secret is named, never written: `{ env: NAME }` or `{ file: /path }` (also the short forms
 * "env:NAME" and "file:/path", handy in -E flags). Config files, flags and logs then only ever
 * hold where the value lives, so a config dump or an error message cannot leak a webhook token.
 */
export const secretRef = z.union([
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
  z.string().regex(/^(env|file):.+$/, 'a secret is { env: NAME }, { file: PATH }, "env:NAME" or "file:PATH" — never the value itself').transform((s) => {
    const i = s.indexOf(':');
    return s.slice(0, i) === 'env' ? { env: s.slice(i + 1) } : { file: s.slice(i + 1) };
  }),
]);
export type SecretRef = z.output<typeof secretRef>;

export class SecretError extends DockwardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SECRET_UNAVAILABLE', message, options);
  }
}

const REDACTED = '[redacted]';

/** A resolved secret that refuses to be printed: JSON, string coercion and util.inspect all redact. */
export class Secret {
  readonly #value: string;
  constructor(value: string, readonly source: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.source})`;
  }
}

/** Reads the secret now (at start-up), so a missing variable or file fails `run` at once, by name. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Secret {
  if ('env' in ref && ref.env) {
    const v = env[ref.env];
    if (!v) throw new SecretError(`environment variable ${ref.env} is not set`);
    return new Secret(v.trim(), `env ${ref.env}`);
  }
  const file = (ref as { file: string }).file;
  let v: string;
  try {
    v = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretError(`secret file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  // Secret files are usually written with a trailing newline (echo, kubectl, docker secrets).
  return new Secret(v.replace(/\r?\n$/, ''), `file ${file}`);
}

/** Removes every secret's value (and its URL-encoded form) from a text bound for a log. */
export function redact(text: string, secrets: Iterable<Secret>): string {
  let out = text;
  for (const s of secrets) {
    const v = s.reveal();
    if (v.length < 4) continue;
    for (const form of new Set([v, encodeURIComponent(v)])) out = out.split(form).join(REDACTED);
  }
  return out;
}
