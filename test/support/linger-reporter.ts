/**
 * A node:test reporter beside `spec`: a test file whose process outlives its last test by more than
 * LINGER_MS (an unread response, an open client, a timer) costs CI that time for nothing and hides a
 * leak, so it fails the run naming the file. Found so: an unread `docker exec` start response kept
 * test/collect/connections.test.ts alive 290 s after its last test. A file-level before/after hook
 * is in no top-level test's duration, so its time counts as idle here: hooks go inside a suite.
 */
const LINGER_MS = 20_000;

interface Event {
  type: string;
  data: { nesting: number; name: string; file?: string; details?: { duration_ms?: number } };
}

async function* lingerReporter(source: AsyncIterable<Event>): AsyncGenerator<string> {
  // Per file: the summed durations of its top-level tests and suites (hooks included).
  const tests = new Map<string, number>();
  const lingered: string[] = [];
  for await (const e of source) {
    if (e.type !== 'test:complete' || e.data.nesting !== 0 || !e.data.file) continue;
    const ms = e.data.details?.duration_ms ?? 0;
    if (e.data.name !== e.data.file) {
      tests.set(e.data.file, (tests.get(e.data.file) ?? 0) + ms);
      continue;
    }
    // The file's own entry: its process from start to exit.
    const idle = ms - (tests.get(e.data.file) ?? 0);
    if (idle > LINGER_MS) lingered.push(`${e.data.file}: the process exited ${Math.round(idle / 1000)} s after its tests ended (an open handle)`);
  }
  if (lingered.length) {
    process.exitCode = 1;
    yield `\n✖ test files that kept running after their tests:\n${lingered.map((l) => `  ${l}\n`).join('')}`;
  }
}

// CommonJS: node:test loads a reporter module and calls what it exports.
export = lingerReporter;
