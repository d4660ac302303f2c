import { Buffer } from 'node:buffer';
import type { HttpResponse } from 'uWebSockets.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPushBack, type PushedResponse } from '../../src/acceptor/client-push-back.js';
import { POLL_MS, STALL_MS } from '../../src/acceptor/duplex-stall.js';

/**
 * The uWS calls a push-back makes, over a client that takes `takes` bytes a try: tryEnd writes that
 * much of what it is given and moves the write offset on, as uWS's tryEnd does on a full socket.
 */
function fakeClient(total: number) {
  const client = { offset: 0, takes: 0, closed: false };
  const res = {
    pause: () => {},
    cork: (fn: () => void) => fn(),
    getWriteOffset: () => client.offset,
    onWritable: () => {},
    close: () => {
      client.closed = true;
    },
    tryEnd: (chunk: Buffer) => {
      const taken = Math.min(client.takes, chunk.length);
      client.offset += taken;
      const done = client.offset === total;
      return [done, done];
    },
  };
  return { client, res: res as unknown as HttpResponse };
}

const response = (total: number): PushedResponse => ({
  aborted: () => false,
  responded: () => false,
  totalSize: () => total,
  completed: () => {},
  writable: () => {},
});

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('an answer pushed back while its upload is paused', () => {
  const TOTAL = 256 * 1024;

  /** A held chunk of the whole answer, nothing of it taken, both ways paused. */
  function stalled() {
    const { client, res } = fakeClient(TOTAL);
    const pushBack = new ClientPushBack(res, response(TOTAL));
    pushBack.hold(Buffer.alloc(TOTAL), 0, 0);
    pushBack.uploadPaused(true);
    pushBack.awaitWritable();
    return client;
  }

  it('stays open while a slow client takes some of the held chunk: the stall counts time without progress', () => {
    const client = stalled();
    // 10 bytes a poll: 1 KB/s, the held 256 KiB would take minutes.
    client.takes = 10;
    vi.advanceTimersByTime(3 * STALL_MS);
    expect(client.closed).toBe(false);
    expect(client.offset).toBeGreaterThan(0);
  });

  it('closes the connection once the client takes nothing for STALL_MS', () => {
    const client = stalled();
    client.takes = 10;
    vi.advanceTimersByTime(STALL_MS / 2);
    client.takes = 0;
    vi.advanceTimersByTime(STALL_MS - 2 * POLL_MS);
    expect(client.closed).toBe(false);
    vi.advanceTimersByTime(4 * POLL_MS);
    expect(client.closed).toBe(true);
  });
});
