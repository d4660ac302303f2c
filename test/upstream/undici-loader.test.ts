import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/load.js';
import { configUsesUndici, loadUndici, undiciLoaded, undiciPool, usesUndici } from '../../src/upstream/undici-loader.js';

/** A config with just what configUsesUndici reads: the client setting and the nodes' urls. */
const configOf = (upstreamClient: 'h1' | 'undici', ...urls: string[]): GatewayConfig =>
  ({ settings: { upstreamClient }, clusters: { a: { nodes: urls.slice(0, 1).map((url) => ({ url })) }, b: { nodes: urls.slice(1).map((url) => ({ url })) } } }) as unknown as GatewayConfig;

const dial = { tls: undefined, lookup: undefined, connectTimeoutMs: 1_000 };

describe('undici, loaded only where a node needs it', () => {
  it('gives undici the https nodes, and every node under the undici client', () => {
    expect(usesUndici('http://127.0.0.1:8080', 'h1')).toBe(false);
    expect(usesUndici('https://127.0.0.1:8443', 'h1')).toBe(true);
    expect(usesUndici('http://127.0.0.1:8080', 'undici')).toBe(true);
  });

  it('finds an undici node in any cluster of a config', () => {
    expect(configUsesUndici(configOf('h1', 'http://a.test', 'http://b.test'))).toBe(false);
    expect(configUsesUndici(configOf('h1', 'http://a.test', 'https://b.test'))).toBe(true);
    expect(configUsesUndici(configOf('undici', 'http://a.test'))).toBe(true);
    expect(configUsesUndici(configOf('h1'))).toBe(false);
  });

  it('makes no pool before this thread loaded undici, and makes them once it did', async () => {
    expect(undiciLoaded()).toBe(false);
    expect(() => undiciPool('https://127.0.0.1:8443', dial, { connections: 1 })).toThrow(/before loadUndici/);
    await loadUndici();
    expect(undiciLoaded()).toBe(true);
    const pool = undiciPool('https://127.0.0.1:8443', dial, { connections: 1 });
    expect(pool.closed).toBe(false);
    await pool.close();
  });
});
