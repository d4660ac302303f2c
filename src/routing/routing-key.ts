import { HashKind } from './route-table.js';

/** The ring key of a request: the tenant by default; a route may hash on the path or a header instead. */
export function routingKey(hashKind: HashKind, tenant: string, path: string, hashHeaderValue: string): string {
  switch (hashKind) {
    case HashKind.Path:
      return path;
    case HashKind.Header:
      return hashHeaderValue || tenant || path;
    default:
      return tenant || path;
  }
}
