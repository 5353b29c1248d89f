/**
 * dockward's error classes. Each has a stable `code` (for logs, metrics and tests) and keeps the
 * underlying `cause`. Whether a bulk item is retried is decided by its status code
 * (isRetryableStatus), never by parsing a message.
 */
export class DockwardError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem in the configuration, named by its key path and, when known, file and line. */
export interface ConfigIssue {
  key: string;
  message: string;
  source?: string; // file path, "env DOCKWARD_X" or "flag --set"
  line?: number;
}

export class ConfigError extends DockwardError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', ConfigError.format(issues), options);
    this.issues = issues;
  }
  static format(issues: ConfigIssue[]): string {
    const lines = issues.map((i) => {
      const where = i.source ? `${i.source}${i.line ? `:${i.line}` : ''}: ` : '';
      return `  ${where}${i.key || '(root)'}: ${i.message}`;
    });
    return `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}

/** The Docker engine could not be reached or answered with an error. */
export class EngineError extends DockwardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENGINE_UNAVAILABLE', message, options);
  }
}

/** A setup step could not run against this cluster (missing feature, licence, privilege). */
export class SetupError extends DockwardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Status codes that a later retry may turn into success. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 0 || status === 429 || status >= 500;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
