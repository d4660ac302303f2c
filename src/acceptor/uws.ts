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
