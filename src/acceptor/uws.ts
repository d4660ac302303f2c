import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import type { ErrorCode } from '../errors.js';

export type UwsModule = typeof Uws;

/** `close()` exists on the native App (it closes every socket) but is missing from this build's typings. */
export type UwsApp = Uws.TemplatedApp & { close(): void };

export class UwsFallbackError extends Error {
  readonly code = 'ERR_UWS_FALLBACK' satisfies ErrorCode;
}

/**
 * Loads uWebSockets.js and refuses its pure-JS fallback, which the package switches to silently
 * (with only a console warning) when the native binary does not load. The native addon exports
 * `getParts` and `H3App`; the fallback does not.
 */
export function loadUws(allowFallback: boolean): UwsModule {
  const uws = createRequire(import.meta.url)('uWebSockets.js') as UwsModule & Record<string, unknown>;
  const native = typeof uws.getParts === 'function' && typeof uws.H3App === 'function';
  if (!native && !allowFallback) {
    throw new UwsFallbackError(
      `uWebSockets.js could not load its native binary for ${process.platform}-${process.arch} ` +
        `(Node ABI ${process.versions.modules}) and fell back to its slow pure-JS server; ` +
        'refusing to start. Use a supported Node.js (20.x on linux-x64/arm64, darwin, win32) ' +
        'or set GATEWAY_ALLOW_UWS_FALLBACK=1 to run on the fallback anyway.',
    );
  }
  return uws;
}

/**
 * uWS's own answer header `uWebSockets: 20` (its "write mark"), which it adds to every answer unless
 * the thread's loop is told otherwise: a gateway answers with the node's head and what it adds on
 * purpose, not its HTTP library's name and version (nginx's `server_tokens off`). `_cfg` with this
 * key is uWS.js's switch for it, per thread (each has its own loop). proxy.test.ts pins the result.
 */
const NO_WRITE_MARK = '999999990007';

/** A uWS app for this thread, whose answers carry no `uWebSockets` header. */
export function newApp(uws: UwsModule): UwsApp {
  uws._cfg(NO_WRITE_MARK);
  return uws.App() as UwsApp;
}
