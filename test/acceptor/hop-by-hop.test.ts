import { describe, expect, it } from 'vitest';
import { connectionNamed, dropConnectionTokens } from '../../src/acceptor/hop-by-hop.js';
import { fieldTexts, rawFields } from '../helpers/raw-fields.js';

describe('dropConnectionTokens', () => {
  it("removes the headers a Connection value names, whatever their case, from a request's list and from an answer's fields", () => {
    const strings = ['x-a', '1', 'x-trace', '2', 'X-B', '3'];
    dropConnectionTokens(strings, 'keep-alive, X-Trace ,x-b');
    expect(strings).toEqual(['x-a', '1']);
    const fields = rawFields('X-Trace', '2', 'Server', 'nginx', 'x-b', '3');
    fields.dropNamed(connectionNamed('x-trace, X-B')!);
    expect(fieldTexts(fields)).toEqual(['Server', 'nginx']);
  });

  it('leaves the list alone when the value names only hop-by-hop headers, which are dropped anyway', () => {
    const headers = ['keep-alive', 'timeout=5', 'x-a', '1'];
    dropConnectionTokens(headers, 'Keep-Alive, upgrade, ');
    expect(headers).toEqual(['keep-alive', 'timeout=5', 'x-a', '1']);
    expect(connectionNamed('Keep-Alive, upgrade, ')).toBeNull();
  });

  it('reads a lone keep-alive in any case as naming nothing, and any other name of its length as a header', () => {
    expect(connectionNamed('keep-alive')).toBeNull();
    expect(connectionNamed('Keep-Alive')).toBeNull();
    expect(connectionNamed('X-Trace-Id')).toEqual(new Set(['x-trace-id']));
    const headers = ['x-trace-id', '7', 'x-a', '1'];
    dropConnectionTokens(headers, 'x-trace-id');
    expect(headers).toEqual(['x-a', '1']);
  });

  it('keeps Host, which an HTTP/1.1 request must carry, and Idempotency-Key, even when Connection names them', () => {
    const headers = ['host', 'a.example', 'idempotency-key', 'k1', 'x-a', '1'];
    dropConnectionTokens(headers, 'host, Idempotency-Key, x-a');
    expect(headers).toEqual(['host', 'a.example', 'idempotency-key', 'k1']);
  });

  it('keeps the headers the gateway routed or counted the request by (its tenant), even when Connection names them', () => {
    const headers = ['x-tenant-id', 'acme', 'x-session', 's1', 'x-a', '1'];
    dropConnectionTokens(headers, 'x-tenant-id, x-session, x-a, close', ['x-tenant-id', 'x-session']);
    expect(headers).toEqual(['x-tenant-id', 'acme', 'x-session', 's1']);
  });
});
