import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
const removeMade = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};
// Under vitest, what a test file made goes once its tests are done; outside it (npm run check:uws,
// which imports the gateway helpers too), when the process exits. Importing vitest outside a
// vitest run throws ("Vitest failed to access its internal state").
if (process.env.VITEST !== undefined) (await import('vitest')).afterAll(removeMade);
else process.once('exit', removeMade);

/** A new temporary directory (`prefix` + random), removed after the test file's tests. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
