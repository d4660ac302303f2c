import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { DNS_NAME } from './primitives.js';

/**
 * How a cluster's https:// nodes are reached: the CA bundle that signs their certificates (unset:
 * Node's bundled CAs), a client certificate and key (mTLS), the server name (SNI, and the name
 * checked against the certificate), and whether certificates are verified at all. The files are
 * read and checked here, once per load or reload, and the config carries their PEM text to the
 * threads: nothing is read per connection, let alone per request.
 */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

type Ctx = z.core.$RefinementCtx<string>;

function read(path: string, ctx: Ctx): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `cannot read: ${(err as Error).message}` });
    return null;
  }
}

/** One or more PEM certificates (a CA bundle, or a certificate and its chain), each one parsed. */
function certificates(path: string, ctx: Ctx): string {
  const text = read(path, ctx);
  if (text === null) return '';
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || blocks.some(([, label]) => label !== 'CERTIFICATE')) {
    ctx.addIssue({ code: 'custom', message: 'must hold PEM certificates (-----BEGIN CERTIFICATE-----) and nothing else' });
    return '';
  }
  for (const [block] of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `holds a certificate that does not parse: ${(err as Error).message}` });
      return '';
    }
  }
  return text;
}

/** One unencrypted PEM private key. */
function privateKey(path: string, ctx: Ctx): string {
  const text = read(path, ctx);
  if (text === null) return '';
  try {
    createPrivateKey(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must hold an unencrypted PEM private key: ${(err as Error).message}` });
    return '';
  }
  return text;
}

export const upstreamTlsSchema = z
  .strictObject({
    /** PEM bundle of the CAs that sign the nodes' certificates; unset: Node's bundled CAs. */
    caFile: z.string().min(1).transform(certificates).optional(),
    /** The gateway's client certificate (PEM, its chain may follow), for nodes that ask for one. */
    certFile: z.string().min(1).transform(certificates).optional(),
    keyFile: z.string().min(1).transform(privateKey).optional(),
    /** SNI and the name the certificate must carry; unset: the url's host when it is a name, none for an IP. */
    servername: z
      .string()
      .regex(DNS_NAME, 'must be a DNS name')
      .refine((name) => isIP(name) === 0, 'must be a DNS name, not an IP address')
      .optional(),
    /** false: any certificate is accepted (logged as a warning at every load): for tests, never production. */
    verify: z.boolean().default(true),
  })
  .superRefine((tls, ctx) => {
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      const missing = tls.certFile === undefined ? 'certFile' : 'keyFile';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'a client certificate needs both certFile and keyFile', input: undefined });
      return;
    }
    // Both read: do they belong together? (An empty one failed already, with its own message.)
    if (tls.certFile && tls.keyFile) {
      try {
        createSecureContext({ cert: tls.certFile, key: tls.keyFile });
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['keyFile'], message: `is not the key of certFile: ${(err as Error).message}`, input: undefined });
      }
    }
  })
  .transform(({ caFile, certFile, keyFile, servername, verify }): UpstreamTls => ({
    verify,
    ...(servername !== undefined && { servername }),
    ...(caFile !== undefined && { ca: caFile }),
    ...(certFile !== undefined && keyFile !== undefined && { cert: certFile, key: keyFile }),
  }));

/** A cluster's TLS as the threads receive it: the files' PEM text, not their paths. */
export interface UpstreamTls {
  readonly verify: boolean;
  readonly servername?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

