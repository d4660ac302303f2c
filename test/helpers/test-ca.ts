import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { scratchDir } from './scratch.js';

/** A PEM certificate with its key, as files and as text. */
export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends IssuedCert {
  readonly dir: string;
  /** A certificate signed by this CA: for a server (its DNS names as subjectAltName) or a client. */
  issue(name: string, use: { readonly serverNames: readonly string[] } | 'client'): IssuedCert;
}

/** openssl, or a clear failure: the TLS tests make their CA at run time and need the CLI. */
function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new Error('the TLS tests need the openssl command (Debian: apt-get install openssl)');
    throw err;
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A throwaway certificate authority made with the openssl CLI in a temporary directory: valid for
 * a day, EC P-256 keys (fast to make), never trusted by anything but the test that made it.
 */
export function makeTestCa(): TestCa {
  const dir = scratchDir('ringgate-ca-');
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ringgate test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const read = (certFile: string, keyFile: string): IssuedCert => ({
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  });
  let serial = 1;
  return {
    dir,
    ...read(join(dir, 'ca.pem'), join(dir, 'ca.key')),
    issue(name, use) {
      const base = join(dir, name);
      openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
      const extensions =
        use === 'client'
          ? 'extendedKeyUsage=clientAuth\n'
          : `extendedKeyUsage=serverAuth\nsubjectAltName=${use.serverNames.map((n) => `DNS:${n}`).join(',')}\n`;
      writeFileSync(`${base}.ext`, `basicConstraints=CA:FALSE\n${extensions}`);
      openssl(
        ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(++serial),
          '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`],
        dir,
      );
      return read(`${base}.pem`, `${base}.key`);
    },
  };
}

/** What an https test backend saw of a connection's handshake. */
export interface SeenHandshake {
  /** The SNI the client sent; null for none. */
  readonly servername: string | null;
  /** The CN of the client's certificate; null without one. */
  readonly clientCn: string | null;
}

export interface TlsBackend {
  readonly port: number;
  /** Every request's path with its connection's handshake, and which connection (1, 2, … in accepted order). */
  readonly seen: (SeenHandshake & { readonly path: string; readonly connection: number })[];
  close(): Promise<void>;
}

/**
 * An https backend on `host` (127.0.0.1 unless told) and an ephemeral port: answers every request
 * with 200 and JSON of its handshake, which it also records.
 */
export async function startTlsBackend(options: ServerOptions, host = '127.0.0.1'): Promise<TlsBackend> {
  const seen: TlsBackend['seen'] = [];
  const connections = new WeakMap<TLSSocket, number>();
  const server = createHttpsServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const cn = socket.getPeerCertificate().subject?.CN;
    const handshake = { servername: typeof socket.servername === 'string' ? socket.servername : null, clientCn: typeof cn === 'string' ? cn : null };
    seen.push({ path: req.url!, ...handshake, connection: connections.get(socket)! });
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(handshake)));
  });
  let accepted = 0;
  server.on('secureConnection', (socket) => connections.set(socket, ++accepted));
  // The TLS errors of clients the tests refuse on purpose.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
