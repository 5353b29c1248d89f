import { writeFileSync } from 'node:fs';
import { toNdjson } from './bundle';

/** `dockward export dashboards`: the same NDJSON `setup --dashboards` uploads. */
export function exportDashboards(output?: string): void {
  if (output) writeFileSync(output, toNdjson());
  else process.stdout.write(toNdjson());
}
