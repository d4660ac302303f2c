import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolve } from '../../src/upstream/resolve.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({ 'both.test': '127.0.0.1', 'four.test': '127.0.0.1' });
  dns.answers6.set('both.test', '::1');
});

afterAll(() => dns.close());

const addressesOf = async (resolve: ReturnType<typeof createResolve>, name: string): Promise<string[]> => (await resolve(name)).map(({ address }) => address);

describe('a name resolved through GATEWAY_DNS_SERVERS', () => {
  it("keeps a family's last addresses while its query fails, and drops them once the server says it has none", async () => {
    const resolve = createResolve([dns.address], 1_000, 60_000);
    expect(await addressesOf(resolve, 'both.test')).toEqual(['127.0.0.1', '::1']);
    // A flaky AAAA beside a good A: the name has not moved.
    dns.failing.add('AAAA');
    expect(await addressesOf(resolve, 'both.test')).toEqual(['127.0.0.1', '::1']);
    dns.failing.clear();
    dns.answers6.delete('both.test');
    expect(await addressesOf(resolve, 'both.test')).toEqual(['127.0.0.1']);
  });

  it('answers with the family that worked when the other never has', async () => {
    const resolve = createResolve([dns.address], 1_000, 60_000);
    dns.failing.add('AAAA');
    try {
      expect(await addressesOf(resolve, 'four.test')).toEqual(['127.0.0.1']);
    } finally {
      dns.failing.clear();
    }
  });

  it('fails a name whose every query failed, though it answered before (the name watcher keeps its addresses)', async () => {
    const resolve = createResolve([dns.address], 1_000, 60_000);
    expect(await addressesOf(resolve, 'four.test')).toEqual(['127.0.0.1']);
    dns.failing.add('A').add('AAAA');
    try {
      await expect(resolve('four.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    } finally {
      dns.failing.clear();
    }
  });

  it('forgets the last answers of a name not asked for a while (a node gone), however many names are in use', async () => {
    const clock = { now: 0 };
    const resolve = createResolve([dns.address], 1_000, 10_000, () => clock.now);
    dns.answers6.set('both.test', '::1');
    expect(await addressesOf(resolve, 'both.test')).toEqual(['127.0.0.1', '::1']);
    // four.test is asked every 4 s (a TTL); both.test no more.
    for (clock.now = 4_000; clock.now <= 16_000; clock.now += 4_000) expect(await addressesOf(resolve, 'four.test')).toEqual(['127.0.0.1']);
    dns.failing.add('AAAA');
    try {
      // both.test's AAAA answer is gone: a failing AAAA now leaves its A alone.
      expect(await addressesOf(resolve, 'both.test')).toEqual(['127.0.0.1']);
    } finally {
      dns.failing.clear();
    }
  });
});
