import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { writeConfig } from '../helpers/gateway-process.js';
import { makeTestCa, type IssuedCert, type TestCa } from '../helpers/test-ca.js';

let ca: TestCa;
let client: IssuedCert;
let other: IssuedCert;
let notPem: string;

beforeAll(() => {
  ca = makeTestCa();
  client = ca.issue('client', 'client');
  other = ca.issue('other', 'client');
  notPem = join(ca.dir, 'not-pem.txt');
  writeFileSync(notPem, 'not a certificate\n');
});

const withTls = (tls: unknown) => ({
  routes: [{ prefix: '/', cluster: 'c' }],
  clusters: { c: { nodes: [{ id: 'n', url: 'https://backend.test:8443' }], tls } },
});

function errorOf(tls: unknown): string {
  try {
    loadConfig({ GATEWAY_CONFIG: writeConfig(withTls(tls)) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('cluster tls', () => {
  it('reads the files once, at load: the config carries their PEM text, verification on by default', () => {
    const config = loadConfig({ GATEWAY_CONFIG: writeConfig(withTls({ caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile, servername: 'api.internal' })) });
    expect(config.clusters.c!.tls).toEqual({ verify: true, servername: 'api.internal', ca: ca.cert, cert: client.cert, key: client.key });
  });

  // Rows are functions: the files exist only once beforeAll has made them.
  it.each<[string, () => [unknown, string]]>([
    ['missing CA file', () => [{ caFile: '/nonexistent/ca.pem' }, 'clusters.c.tls.caFile = "/nonexistent/ca.pem": cannot read: ENOENT']],
    ['CA file not PEM', () => [{ caFile: notPem }, `clusters.c.tls.caFile = ${JSON.stringify(notPem)}: must hold PEM certificates`]],
    ['a key as CA', () => [{ caFile: client.keyFile }, `clusters.c.tls.caFile = ${JSON.stringify(client.keyFile)}: must hold PEM certificates`]],
    ['a certificate as key', () => [{ certFile: client.certFile, keyFile: client.certFile }, `clusters.c.tls.keyFile = ${JSON.stringify(client.certFile)}: must hold an unencrypted PEM private key`]],
    ['certificate without key', () => [{ certFile: client.certFile }, 'clusters.c.tls.keyFile = missing: a client certificate needs both certFile and keyFile']],
    ['another certificate\'s key', () => [{ certFile: client.certFile, keyFile: other.keyFile }, `clusters.c.tls.keyFile = ${JSON.stringify(other.keyFile)}: is not the key of certFile`]],
    ['an IP as servername', () => [{ servername: '10.0.0.1' }, 'clusters.c.tls.servername = "10.0.0.1": must be a DNS name, not an IP address']],
    ['verify not a boolean', () => [{ verify: 'no' }, 'clusters.c.tls.verify = "no"']],
  ])('names the field and the file: %s', (_, row) => {
    const [tls, expected] = row();
    expect(errorOf(tls)).toContain(expected);
  });

  it('lists every bad file at once', () => {
    const message = errorOf({ caFile: '/nonexistent/ca.pem', certFile: notPem, keyFile: notPem });
    for (const field of ['tls.caFile', 'tls.certFile', 'tls.keyFile']) expect(message).toContain(`clusters.c.${field} = `);
  });
});
