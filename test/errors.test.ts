import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANSWERED_CODES, ERRORS, ERROR_CODES, errorBody } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}|–) \| (yes|no) \|/gm)];
const table = new Map(rows.map((m) => [m[1]!, { status: m[2] === '–' ? null : Number(m[2]), retryable: m[3] === 'yes' }]));

describe('error registry', () => {
  it('documents every code with its status and retryability in the README, and no stale code', () => {
    expect([...table.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(table.get(code)).toEqual({ status: ERRORS[code].status, retryable: ERRORS[code].retryable });
  });

  it('answers {error, code} JSON', () => {
    expect(JSON.parse(errorBody('ERR_NO_ROUTE'))).toEqual({ error: ERRORS.ERR_NO_ROUTE.message, code: 'ERR_NO_ROUTE' });
  });

  // Each code answered on the gateway port must be produced by a real gateway in some integration
  // test (which assert codes through expectError: status, JSON body and code together). ERR_METRICS
  // is the admin server's, answered only when collecting a thread's metrics throws.
  it('has every answered code asserted by an integration test', () => {
    const dir = new URL('./integration/', import.meta.url);
    const sources = readdirSync(dir).map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const gatewayCodes = ANSWERED_CODES.filter((code) => code !== 'ERR_METRICS');
    const missing = gatewayCodes.filter((code) => !sources.some((src) => src.includes('expectError(') && src.includes(`'${code}'`)));
    expect(missing).toEqual([]);
  });
});
