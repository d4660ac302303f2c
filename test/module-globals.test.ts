import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Node defines the globals `Buffer` and `performance` as getters on globalThis, and optimized code
 * still calls the getter at every use (a LoadGlobalIC and the getter's frame: about 6 ns a use,
 * ~1% of a get-1k request's CPU in perf). Taken from their modules, they are plain bindings.
 */
const GLOBALS = [
  { name: 'Buffer', use: /(?<![.\w])Buffer\b/, module: 'node:buffer' },
  { name: 'performance', use: /(?<![.\w])performance\./, module: 'node:perf_hooks' },
];

const SRC = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The code without comments and string literals, where the names may appear as words. */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/`(?:[^`\\]|\\.)*`/g, "''");
}

describe('module globals', () => {
  it('every source file using Buffer or performance imports it from its module', () => {
    const missing: string[] = [];
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      const code = codeOf(text);
      for (const { name, use, module } of GLOBALS) {
        if (use.test(code) && !text.includes(`import { ${name} } from '${module}'`)) missing.push(`${file.slice(SRC.length)}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
