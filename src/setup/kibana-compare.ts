import type { SavedObject } from '../kibana/model';
import { KibanaError, type KibanaClient } from './kibana-client';

/** One line of an export: the object as Kibana stores it now (migrated to its own version). */
export interface ExportedObject { type: string; id: string; attributes: Record<string, unknown>; references?: Array<{ type: string; id: string; name: string }> }

/** The 400 the export API answers when some requested objects could not be read (kibana `SavedObjectsExportError.objectFetchError`). */
interface FetchError { attributes?: { objects?: Array<{ type: string; id: string; error?: { statusCode?: number } }> } }

const key = (o: { type: string; id: string }): string => `${o.type}/${o.id}`;

/** JSON held in a string attribute (panelsJSON, searchSourceJSON, fieldFormatMap …) compared as what it encodes. */
function decode(v: unknown): unknown {
  if (typeof v !== 'string' || !/^\s*[[{]/.test(v)) return v;
  try { return JSON.parse(v); } catch { return v; }
}

/**
 * Everything dockward wrote is still there with the same value. Keys Kibana added on import
 * (defaults its migrations fill in, bookkeeping) are ignored; arrays must match element by
 * element, so a panel removed, added or edited in Kibana counts as a difference.
 */
export function contains(theirs: unknown, ours: unknown): boolean {
  const a = decode(theirs);
  const b = decode(ours);
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && b.every((v, i) => contains(a[i], v));
  if (b && typeof b === 'object') {
    if (!a || typeof a !== 'object' || Array.isArray(a)) return false;
    return Object.entries(b).every(([k, v]) => contains((a as Record<string, unknown>)[k], v));
  }
  return a === b;
}

/** Same attributes (as above) and exactly the same references. */
export function sameObject(ours: SavedObject, theirs: ExportedObject): boolean {
  const refs = (r: ExportedObject['references']) => (r ?? []).map((x) => `${x.name}|${x.type}|${x.id}`).sort().join('\n');
  return contains(theirs.attributes, ours.attributes) && refs(theirs.references) === refs(ours.references);
}

async function exportOnce(client: KibanaClient, objects: SavedObject[]): Promise<{ found: ExportedObject[]; absent: string[] }> {
  const body = { objects: objects.map((o) => ({ type: o.type, id: o.id })), includeReferencesDeep: false, excludeExportDetails: true };
  try {
    const res = await client.jsonForText('POST', client.spacePath('/api/saved_objects/_export'), body);
    const found = res.body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ExportedObject).filter((o) => o.type && o.id);
    return { found, absent: [] };
  } catch (err) {
    const errored = err instanceof KibanaError && err.status === 400 ? (err.body as FetchError | undefined)?.attributes?.objects : undefined;
    if (!errored?.length) throw err;
    // Only "not found" is an answer; any other per-object failure (403 on a type) means we cannot tell.
    if (errored.some((o) => o.error?.statusCode !== 404)) throw err;
    return { found: [], absent: errored.map(key) };
  }
}

/**
 * What Kibana holds now for the bundle's objects, through the documented export API
 * (`POST /api/saved_objects/_export` by type and id). One missing object fails the whole export
 * with a 400 naming the missing ones, so it is asked again for the rest. null when Kibana cannot
 * answer (an older Kibana, no privilege to export): the caller then imports everything.
 */
export async function storedObjects(client: KibanaClient, objects: SavedObject[]): Promise<Map<string, ExportedObject> | null> {
  try {
    let first = await exportOnce(client, objects);
    if (first.absent.length) {
      const rest = objects.filter((o) => !first.absent.includes(key(o)));
      first = rest.length ? { ...(await exportOnce(client, rest)), absent: first.absent } : first;
    }
    return new Map(first.found.map((o) => [key(o), o]));
  } catch (err) {
    // Any answer of Kibana's (a missing space, refused credentials, an older API) leaves the
    // decision to the import, which reports those in its own words; an unreachable Kibana throws.
    if (err instanceof KibanaError) return null;
    throw err;
  }
}
