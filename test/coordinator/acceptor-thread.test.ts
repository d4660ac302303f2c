import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { oldGenerationFloorMb } from '../../src/coordinator/acceptor-thread.js';
import { writeConfig } from '../helpers/gateway-process.js';

function configWith(urls: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const nodes = urls.map((url, i) => ({ id: `n${i}`, url }));
  return loadConfig({ ...env, GATEWAY_CONFIG: writeConfig({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes } } }) });
}

describe('the old-generation floor of an acceptor thread', () => {
  it('is none when every answer is read by the gateway’s own client', () => {
    expect(oldGenerationFloorMb(configWith(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']))).toBe(0);
  });

  it('is 64 MB when answers are read through undici: an https node, or undici for every node', () => {
    expect(oldGenerationFloorMb(configWith(['http://127.0.0.1:9001', 'HTTPS://127.0.0.1:9443']))).toBe(64);
    expect(oldGenerationFloorMb(configWith(['http://127.0.0.1:9001'], { GATEWAY_UPSTREAM_CLIENT: 'undici' }))).toBe(64);
  });

  it('is what GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB says when set, 0 included', () => {
    expect(oldGenerationFloorMb(configWith(['https://127.0.0.1:9443'], { GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB: '0' }))).toBe(0);
    expect(oldGenerationFloorMb(configWith(['http://127.0.0.1:9001'], { GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB: '128' }))).toBe(128);
  });
});
