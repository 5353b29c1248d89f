import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { ConfigError } from '../errors';
import { createLogger } from '../telemetry/logger';
import { Telemetry } from '../telemetry/telemetry';

export interface GlobalOptions {
  config?: string;
  set: string[];
}

/** The config file: --config, then $DOCKWARD_CONFIG, then ./dockward.yml when present. */
export function configPath(opts: GlobalOptions): string | undefined {
  if (opts.config) return opts.config;
  if (process.env.DOCKWARD_CONFIG) return process.env.DOCKWARD_CONFIG;
  return existsSync('dockward.yml') ? 'dockward.yml' : undefined;
}

export function loadOrExit(opts: GlobalOptions): Config {
  try {
    return loadConfig({ file: configPath(opts), sets: opts.set, warn: (m) => process.stderr.write(`dockward: warning: ${m}\n`) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function telemetryFor(cfg: Config): Telemetry {
  return new Telemetry(createLogger(cfg.logging));
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
