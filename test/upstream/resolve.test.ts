import { describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { pinnedLookup } from '../../src/upstream/resolve.js';

type Lookup = (host: string, options: { all?: boolean }, cb: (err: unknown, address: string | LookupAddress[], family?: number) => void) => void;

const ask = (lookup: Lookup, all: boolean): Promise<string | string[]> =>
  new Promise((resolve) =>
    lookup('api.internal', { all }, (_err, address) => resolve(typeof address === 'string' ? address : address.map((a) => a.address))),
  );

describe('a pool pinned to its name\'s addresses', () => {
  const addresses = [
    { address: '10.0.0.1', family: 4 as const },
    { address: '10.0.0.2', family: 4 as const },
    { address: '10.0.0.3', family: 4 as const },
  ];

  it('starts each connection one address further on, as round-robin DNS would', async () => {
    const lookup = pinnedLookup(addresses) as unknown as Lookup;
    const firsts = [];
    for (let i = 0; i < 4; i++) firsts.push(await ask(lookup, false));
    expect(firsts).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1']);
  });

  it('hands happy eyeballs every address, rotated the same way', async () => {
    const lookup = pinnedLookup(addresses) as unknown as Lookup;
    expect(await ask(lookup, true)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(await ask(lookup, true)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.1']);
  });
});
