import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ERROR_CODES, errorBody } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const table = new Map([...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));

describe('error registry', () => {
  it('documents every code with its status in the README, and no stale code', () => {
    expect([...table.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(table.get(code)).toBe(ERRORS[code].status);
  });

  it('answers {error, code} JSON', () => {
    expect(JSON.parse(errorBody('ERR_NO_ROUTE'))).toEqual({ error: ERRORS.ERR_NO_ROUTE.message, code: 'ERR_NO_ROUTE' });
  });

  // Each code must be produced by a real gateway in some integration test (which assert codes
  // through expectError: status, JSON body and code together).
  it('has every code asserted by an integration test', () => {
    const dir = new URL('./integration/', import.meta.url);
    const sources = readdirSync(dir).map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const missing = ERROR_CODES.filter((code) => !sources.some((src) => src.includes('expectError(') && src.includes(`'${code}'`)));
    expect(missing).toEqual([]);
  });
});
