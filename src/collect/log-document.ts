/**
 * A container log line's document, as an object (for detection and the anomaly signals) and as
 * its JSON, built from pieces serialised once per container: JSON.stringify of the whole document
 * per line, and the garbage it made, was the largest cost a shipped line had (issue 20's profile).
 * The JSON is exactly JSON.stringify(doc) (test/collect/log-document.test.ts holds it to that), so
 * nothing downstream may change a log document once built; nothing does (the correlator annotates
 * file and process documents only).
 */
export interface LogFields {
  time: string;
  message: string;
  stream: 'stdout' | 'stderr';
  log: { level?: string; flags?: string[] } | undefined;
  /** event.created: the wall clock when the line was read */
  created: string;
}

export type LogDocument = (f: LogFields) => { doc: Record<string, unknown>; json: string };

/** One container's builder: `container` and `base` (data_stream, ecs, host, observer, agent) are fixed for it. */
export function logDocument(dataset: string, container: Record<string, unknown>, base: Record<string, unknown>): LogDocument {
  const containerJson = JSON.stringify(container);
  const baseJson = JSON.stringify(base);
  const tail = baseJson === '{}' ? '}' : `,${baseJson.slice(1)}`;
  const eventHead = `"event":{"kind":"event","category":["process"],"type":["info"],"dataset":${JSON.stringify(dataset)},"module":"dockward","created":`;
  return (f) => {
    const doc = {
      '@timestamp': f.time,
      message: f.message,
      stream: f.stream,
      log: f.log,
      container,
      event: { kind: 'event', category: ['process'], type: ['info'], dataset, module: 'dockward', created: f.created },
      ...base,
    };
    const log = f.log === undefined ? '' : `,"log":${JSON.stringify(f.log)}`;
    const json = `{"@timestamp":${JSON.stringify(f.time)},"message":${JSON.stringify(f.message)},"stream":${JSON.stringify(f.stream)}${log},"container":${containerJson},${eventHead}${JSON.stringify(f.created)}}${tail}`;
    return { doc, json };
  };
}

/** event.created for lines read in the same millisecond: one Date and one ISO string per millisecond, not per line. */
export function createdClock(clock: () => number = Date.now): () => string {
  let ms = -1;
  let iso = '';
  return () => {
    const now = clock();
    if (now !== ms) {
      ms = now;
      iso = new Date(now).toISOString();
    }
    return iso;
  };
}
