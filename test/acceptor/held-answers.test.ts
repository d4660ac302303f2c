import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { HELD_ANSWER_MAX_BYTES } from '../../src/acceptor/answer-writes.js';
import { ClientResponse } from '../../src/acceptor/uws-adapter.js';

/**
 * A stand-in for uWS's HttpResponse with what ClientResponse calls on a proxied answer: it records
 * what reaches the socket, and its tryEnd takes at most `room` bytes, as uWS's does under
 * backpressure ([all of this chunk taken, the response complete]).
 */
function socket(room = Infinity) {
  const wire: string[] = [];
  let offset = 0;
  let onAborted: (() => void) | null = null;
  let onWritable: ((offset: number) => boolean) | null = null;
  const state = { room, wire, abort: () => onAborted?.(), drain: () => onWritable?.(offset) };
  const res = {
    cork(cb: () => void) {
      cb();
      return res;
    },
    writeStatus(status: string) {
      wire.push(`HTTP/1.1 ${status}`);
      return res;
    },
    writeHeader(name: string | Buffer, value: string | Buffer) {
      wire.push(`${String(name)}: ${String(value)}`);
      return res;
    },
    getWriteOffset: () => offset,
    tryEnd(chunk: Buffer, total: number): [boolean, boolean] {
      const taken = Math.min(state.room, chunk.length);
      state.room -= taken;
      if (taken > 0) wire.push(`body ${chunk.subarray(0, taken).toString()}`);
      offset += taken;
      return [taken === chunk.length, offset === total];
    },
    onWritable(handler: (offset: number) => boolean) {
      onWritable = handler;
      return res;
    },
    onAborted(handler: () => void) {
      onAborted = handler;
      return res;
    },
  };
  return { res: res as unknown as HttpResponse, state };
}

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function proxied(res: HttpResponse, totalSize: number) {
  const client = new ClientResponse(res);
  const heard = { lastBytes: 0, writable: 0, aborted: 0 };
  client.attach({ beforeLastBytes: () => heard.lastBytes++, clientWritable: () => heard.writable++, clientAborted: () => heard.aborted++ });
  client.requestId = 'id-1';
  client.startResponse('200 OK', ['content-type', 'text/plain'], totalSize);
  return { client, heard };
}

describe('answers held for the end of the turn', () => {
  it('writes a small answer whole in one piece with the turn’s others, from a copy of its bytes', async () => {
    const { res, state } = socket();
    const { client, heard } = proxied(res, 5);
    const read = Buffer.from('hello');
    expect(client.write(read)).toBe(true);
    expect(heard.lastBytes).toBe(1);
    expect(client.responded).toBe(true);
    expect(state.wire).toEqual([]);
    read.write('XXXXX'); // the read buffer is reused for the next node's answer
    await endOfTurn();
    expect(state.wire).toEqual(['HTTP/1.1 200 OK', 'x-request-id: id-1', 'content-type: text/plain', 'body hello']);
    expect(client.bytesWritten).toBe(5);
  });

  it('writes nothing for a client gone before the turn ended', async () => {
    const { res, state } = socket();
    const { client, heard } = proxied(res, 2);
    client.write(Buffer.from('ok'));
    state.abort();
    await endOfTurn();
    expect(state.wire).toEqual([]);
    expect(client.aborted).toBe(true);
    expect(heard.aborted).toBe(1);
  });

  it('keeps what the socket did not take at the turn’s end, after the held copies are reused', async () => {
    const { res, state } = socket(3);
    const { client } = proxied(res, 6);
    client.write(Buffer.from('abcdef'));
    await endOfTurn();
    expect(state.wire.at(-1)).toBe('body abc');
    // The next turn's answers are copied over the same place.
    const other = socket();
    proxied(other.res, 6).client.write(Buffer.from('zzzzzz'));
    await endOfTurn();
    expect(other.state.wire.at(-1)).toBe('body zzzzzz');
    state.room = Infinity;
    state.drain();
    expect(state.wire.at(-1)).toBe('body def');
    expect(client.backpressured).toBe(false);
  });

  it('keeps every answer’s bytes when a turn holds more than the slab', async () => {
    const answers = Array.from({ length: 40 }, (_, i) => {
      const { res, state } = socket();
      const body = Buffer.alloc(HELD_ANSWER_MAX_BYTES, String.fromCharCode(97 + (i % 26)));
      proxied(res, body.length).client.write(body);
      return { state, body };
    });
    await endOfTurn();
    for (const { state, body } of answers) expect(state.wire.at(-1)).toBe(`body ${body.toString()}`);
  });

  it('writes at once what is not a small answer whole in one piece', () => {
    const big = socket();
    proxied(big.res, HELD_ANSWER_MAX_BYTES + 1).client.write(Buffer.alloc(HELD_ANSWER_MAX_BYTES + 1, 'b'));
    expect(big.state.wire).toHaveLength(4);
    const part = socket();
    const { client } = proxied(part.res, 10);
    expect(client.write(Buffer.from('first'))).toBe(true);
    expect(part.state.wire.at(-1)).toBe('body first');
    client.write(Buffer.from('-last'));
    expect(part.state.wire.at(-1)).toBe('body -last');
    expect(client.responded).toBe(true);
  });
});
