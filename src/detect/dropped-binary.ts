import type { Doc } from './condition';
import type { Envelope } from '../ship/envelope';

/**
 * Correlates two kinds of document that no single rule can join: a file added to a container's
 * filesystem (drift, `docker diff`) and a process started from that path (polling or exec). The
 * two arrive in either order — drift is scanned every minute, processes every few seconds — so
 * both sides are remembered per container for `ttlMs`, bounded to `maxPaths` each (oldest
 * forgotten first). Whichever document comes second is marked, before detection sees it:
 *   process document: dockward.process.dropped_binary = true
 *   file document:    dockward.file.executed = true, plus the process that ran it (process.*)
 * and the rule dockward-dropped-binary-exec fires on either mark.
 */
export class DroppedBinaryCorrelator {
  private readonly files = new Map<string, Map<string, number>>();
  private readonly processes = new Map<string, Map<string, { at: number; process: Doc }>>();

  constructor(private readonly ttlMs = 60 * 60_000, private readonly maxPaths = 2000) {}

  observe(env: Envelope): void {
    const doc = env.doc;
    const dataset = (doc.data_stream as { dataset?: string } | undefined)?.dataset;
    // Every log line passes here: leave at once unless it is a file or process document.
    if (dataset !== 'dockward.file' && dataset !== 'dockward.process') return;
    const container = (doc.container as { id?: string } | undefined)?.id;
    const types = (doc.event as { type?: string[] } | undefined)?.type ?? [];
    if (!container) return;
    const now = Date.now();
    if (dataset === 'dockward.file' && (types.includes('creation') || types.includes('change'))) {
      const path = (doc.file as { path?: string } | undefined)?.path;
      if (!path) return;
      const ran = this.processes.get(container)?.get(path);
      if (ran && now - ran.at < this.ttlMs) {
        mark(doc, 'file', { executed: true });
        doc.process ??= ran.process;
      }
      remember(this.files, container, path, now, this.maxPaths);
    } else if (dataset === 'dockward.process' && types.includes('start')) {
      const process = doc.process as { executable?: string; args?: string[]; working_directory?: string } | undefined;
      const path = executablePath(process);
      if (!path) return;
      const added = this.files.get(container)?.get(path);
      if (added !== undefined && now - added < this.ttlMs) mark(doc, 'process', { dropped_binary: true });
      remember(this.processes, container, path, { at: now, process: process as Doc }, this.maxPaths);
    }
  }

  /** A container that is gone leaves nothing behind. */
  forget(container: string): void {
    this.files.delete(container);
    this.processes.delete(container);
  }
}

/**
 * The executable's path: `process.executable` (without readlink's " (deleted)": run, then
 * deleted), or an absolute (or ./-relative with a cwd) argv[0] when it bears the process's name
 * (argv[0] is the caller's to choose: `exec -a /tmp/x nginx` runs nginx).
 */
function executablePath(p: { executable?: string; name?: string; args?: string[]; working_directory?: string } | undefined): string | undefined {
  if (p?.executable) return p.executable.replace(/ \(deleted\)$/, '');
  const argv0 = p?.args?.[0];
  if (argv0 === undefined || (p?.name !== undefined && argv0.slice(argv0.lastIndexOf('/') + 1) !== p.name)) return undefined;
  if (argv0?.startsWith('/')) return argv0;
  if (argv0?.startsWith('./') && p?.working_directory) return `${p.working_directory.replace(/\/$/, '')}/${argv0.slice(2)}`;
  return undefined;
}

function remember<V>(map: Map<string, Map<string, V>>, container: string, path: string, value: V, max: number): void {
  let m = map.get(container);
  if (!m) map.set(container, (m = new Map()));
  m.delete(path); // re-inserted last: Map order is the age order
  m.set(path, value);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

function mark(doc: Doc, group: 'file' | 'process', fields: Record<string, boolean>): void {
  const dw = ((doc.dockward ??= {}) as Record<string, Record<string, unknown>>);
  dw[group] = { ...dw[group], ...fields };
}
