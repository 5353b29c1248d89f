import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** From the package's own package.json (dist/src/version.js → ../../package.json). */
export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
