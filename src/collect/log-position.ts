import type { LogLine, StreamName } from '../docker/log-decoder';
import { sinceArg } from '../docker/log-decoder';

const SLACK_SEC = 5;

interface Mark {
  sec: number;
  nanos: number;
  /** Ordinal of the last emitted line among the lines of its stream with that timestamp. */
  ord: number;
}

/**
 * Where reading one container's log has got to, per stream, so a second request from the engine
 * (its `since` is inclusive and has no ordinal) skips exactly the lines already emitted: the
 * older ones, and the first ord+1 lines of the last emitted timestamp. The emitter keeps `last`
 * (it numbers lines with equal timestamps for their ids); `resume()` snapshots it per request.
 */
export class LogPosition {
  readonly last: Record<StreamName, Mark> = { stdout: { sec: -1, nanos: -1, ord: 0 }, stderr: { sec: -1, nanos: -1, ord: 0 } };
  /** Lines emitted over all requests. */
  emitted = 0;
  private from: Record<StreamName, Mark> = { stdout: { ...this.last.stdout }, stderr: { ...this.last.stderr } };
  private seen: Record<StreamName, number> = { stdout: 0, stderr: 0 };

  /** A new request starts: lines up to the marks are the ones it re-reads. */
  resume(): void {
    this.from = { stdout: { ...this.last.stdout }, stderr: { ...this.last.stderr } };
    this.seen = { stdout: 0, stderr: 0 };
  }

  isNew(line: LogLine): boolean {
    const f = this.from[line.stream];
    if (f.sec < 0) return true;
    if (line.sec !== f.sec || line.nanos !== f.nanos) return line.sec > f.sec || (line.sec === f.sec && line.nanos > f.nanos);
    return ++this.seen[line.stream] > f.ord + 1;
  }

  /**
   * The engine's `since` for the next request; undefined before any line. The older of the two
   * streams' last timestamps (their lines interleave in the log file with timestamps a little out
   * of order), but never more than SLACK_SEC before the newer: a quiet stream must not make every
   * request re-read the whole log, and the file is in write order, so the quiet stream's lines
   * stamped that long before the newest line read were read already.
   */
  since(): string | undefined {
    const marks = [this.last.stdout, this.last.stderr].filter((m) => m.sec >= 0);
    if (!marks.length) return undefined;
    const older = (a: Mark, b: Mark) => a.sec < b.sec || (a.sec === b.sec && a.nanos <= b.nanos);
    const oldest = marks.reduce((a, b) => (older(a, b) ? a : b));
    const newest = marks.reduce((a, b) => (older(a, b) ? b : a));
    const floor = { sec: newest.sec - SLACK_SEC, nanos: newest.nanos, ord: 0 };
    const m = older(oldest, floor) ? floor : oldest;
    return sinceArg(m.sec, m.nanos);
  }
}
