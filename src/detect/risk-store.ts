/**
 * Risk scores on disk (<state_dir>/risk-scores.json), so a restart does not forget the signals a
 * container already gave (and does not re-raise a crossing it already alerted). Written through
 * state-file.ts (new 0600 file, fsync, rename); read as untrusted input: a file that is not this
 * shape is moved aside and said, and every container starts from zero.
 */
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Telemetry } from '../telemetry/telemetry';
import { privateDir, quarantine, readStateFile, writeStateFile, zodReason } from '../state/state-file';
import type { ContainerRisk, Contributor } from './risk-book';

const text = z.string().max(1024);
const time = z.number().finite().nonnegative();
const contributor = z.strictObject({
  id: text, name: text, cls: z.enum(['signal', 'alert', 'anomaly']), severity: text,
  techniques: z.array(text).max(64), tactics: z.array(text).max(64),
  value: z.number().finite().nonnegative().max(1e6), at: time, first: time, last: time, count: z.number().int().positive(),
});
const fileSchema = z.strictObject({
  version: z.literal(1),
  containers: z.array(z.strictObject({ id: text, armed: z.boolean(), contributors: z.array(contributor) })),
});

/** Far more than max_containers × max_contributors at their defaults write. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export class RiskStore {
  constructor(readonly file: string, private readonly telemetry: Telemetry) {}

  /** The saved containers (none when there is no file or it was unusable and moved aside). */
  load(): ContainerRisk[] {
    let data: unknown;
    try {
      const t = readStateFile(this.file, MAX_FILE_BYTES);
      if (t === undefined) return [];
      data = JSON.parse(t);
    } catch (err) {
      return this.reject(err instanceof SyntaxError ? `not JSON (${err.message})` : (err as Error).message);
    }
    const r = fileSchema.safeParse(data);
    if (!r.success) return this.reject(zodReason(r.error));
    return r.data.containers.map((c) => ({ id: c.id, armed: c.armed, contributors: new Map(c.contributors.map((k) => [k.id, k as Contributor])) }));
  }

  /** Throws when the file cannot be written (the caller says so and tries again later). */
  save(containers: ContainerRisk[]): void {
    privateDir(dirname(this.file));
    writeStateFile(this.file, JSON.stringify({ version: 1, containers: containers.map((c) => ({ id: c.id, armed: c.armed, contributors: [...c.contributors.values()] })) }));
  }

  private reject(reason: string): ContainerRisk[] {
    const aside = quarantine(this.file);
    const where = aside ? `moved to ${aside}` : 'could not be moved aside (the next save replaces it)';
    this.telemetry.event('risk.scores.quarantined', 'error', `risk scores ${this.file} cannot be used: ${reason}; ${where}. Every container's risk starts from zero`, { file: { path: aside ?? this.file } });
    this.telemetry.health.degrade('risk-scores', `${this.file} was unusable (${reason}) and ${where}`);
    return [];
  }
}
