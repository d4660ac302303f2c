import type { Logger } from '../log.js';

/**
 * The glibc malloc settings ringgate should run with: the image sets them (a test keeps the two the
 * same); a process started without them says so (`npm start` stays a plain `node`, for Windows).
 *
 * Why: every upstream socket read is a fresh buffer of up to 64 KiB, malloc'd in the acceptor
 * thread's arena and freed in bulk when V8 sweeps it. A thread's arena (not the main one) gives
 * back whatever free memory passes the trim threshold (128 KiB until glibc adapts it) on each such
 * free, so the next reads fault their pages in again: up to 15 page faults per 64 KiB answer,
 * and 10–20% more CPU in interleaved A/Bs (flamegraphs/README.md). A 32 MiB trim threshold keeps
 * that memory. Setting any threshold turns glibc's adaptive ones off, so the mmap threshold is set
 * too: 4 MiB keeps 1 MiB upload buffers in the arena, as the adaptive threshold would after the
 * first one.
 */
export const GLIBC_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432';

/** The C library Node runs on: glibc's version, or null (musl, or not Linux). */
export function glibcVersion(): string | null {
  if (process.platform !== 'linux') return null;
  // The diagnostic report's header names the glibc Node runs with (~5 ms, only when untuned).
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return header?.glibcVersionRuntime ?? null;
}

/**
 * At start-up: on glibc, a process started without malloc tunables (outside the image) is told
 * what large answers cost it and what to set. `glibcTunables` is GLIBC_TUNABLES as the
 * process started with it; one naming any malloc tunable is the operator's choice, left alone.
 */
export function warnUntunedMalloc(glibcTunables: string | null, log: Logger, libc: () => string | null = glibcVersion): void {
  if (glibcTunables !== null && glibcTunables.includes('glibc.malloc.')) return;
  const version = libc();
  if (version === null) return;
  log.warn(
    { glibc: version, GLIBC_TUNABLES: glibcTunables ?? '(unset)', recommended: GLIBC_MALLOC_TUNABLES },
    'glibc malloc is not tuned: answers of 64 KiB and more may cost 10-20% more CPU (malloc gives freed read buffers back and faults them in again); start ringgate with GLIBC_TUNABLES=<recommended>, as the image does',
  );
}
