import { createRequire, Module } from 'node:module';

/**
 * Modules that our dependencies load at start-up for features dockward never uses, each about
 * 10 MB of resident memory that a daemon beside every container keeps for its lifetime:
 * - `apache-arrow`: @elastic/elasticsearch's helpers, only for ES|QL's Arrow results;
 * - docker-modem's ssh transport (`ssh2`): only for `ssh://` engine hosts;
 * - dockerode's session (gRPC and protobuf): only for BuildKit image builds.
 * Each gets a stand-in in require's cache that loads the real module on first touch, so a user
 * with an `ssh://` host (or a future caller of the helper) still gets it. A module the layout no
 * longer has is left to load as before; test/lazy-deps.test.ts fails when that happens.
 */
export const DEFERRED: ReadonlyArray<{ from: string[]; request: string }> = [
  { from: ['@elastic/elasticsearch'], request: 'apache-arrow/Arrow.node' },
  { from: ['dockerode', 'docker-modem'], request: './ssh' },
  { from: ['dockerode'], request: './session' },
];

/** The file `request` resolves to from the package chain `from` (each resolved from the last). */
export function deferredPath(from: string[], request: string): string | undefined {
  try {
    let req = createRequire(__filename);
    for (const pkg of from) req = createRequire(req.resolve(pkg));
    return req.resolve(request);
  } catch {
    return undefined;
  }
}

function defer(filename: string): void {
  const cache = require.cache;
  if (cache[filename]) return;
  let real: object | undefined;
  const load = (): object => {
    if (real === undefined) {
      delete cache[filename];
      real = require(filename) as object;
    }
    return real;
  };
  // A function target, so a module whose export is a function can still be called or constructed.
  const target = function deferred() {} as unknown as object;
  const stand = new Module(filename);
  stand.filename = filename;
  stand.loaded = true;
  stand.exports = new Proxy(target, {
    get: (_, key) => Reflect.get(load(), key),
    has: (_, key) => Reflect.has(load(), key),
    apply: (_, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
    construct: (_, args) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
  });
  cache[filename] = stand;
}

let installed = false;

/** Installs the stand-ins; before anything imports the packages that would load the modules. */
export function deferUnusedModules(): void {
  if (installed) return;
  installed = true;
  for (const d of DEFERRED) {
    const path = deferredPath(d.from, d.request);
    if (path) defer(path);
  }
}

deferUnusedModules();
