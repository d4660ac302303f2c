import { isIP } from 'node:net';

/** One address a host name resolved to, as dns.lookup gives it. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * The last good addresses of every node host name, by name: what the threads connect to. A Map,
 * not an object: a host may be named `constructor` or `__proto__`.
 */
export type NameTable = ReadonlyMap<string, readonly ResolvedAddress[]>;

/** A host as URLs and Host headers write it, without the brackets around an IPv6 address. */
export function unbracketed(host: string): string {
  return host[0] === '[' && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The host name of a node url; null for an IP literal, which is never resolved. */
export function nodeHostname(url: string): string | null {
  const { hostname } = new URL(url);
  // URL keeps an IPv6 literal's brackets.
  return isIP(unbracketed(hostname)) === 0 ? hostname : null;
}

/** Every host name the nodes of `clusters` name (IP literals left out). */
export function nodeHostnames(clusters: Readonly<Record<string, { readonly nodes: readonly { readonly url: string }[] }>>): Set<string> {
  const names = new Set<string>();
  for (const cluster of Object.values(clusters)) {
    for (const node of cluster.nodes) {
      const name = nodeHostname(node.url);
      if (name !== null) names.add(name);
    }
  }
  return names;
}

/**
 * The addresses as one comparable string, order left out: a resolver that rotates its answers
 * (round-robin DNS) has not moved the name. '' for none known.
 */
export function addressKey(addresses: readonly ResolvedAddress[] | undefined): string {
  return addresses === undefined ? '' : addresses.map((a) => a.address).sort().join(',');
}
