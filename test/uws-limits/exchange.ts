import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OBSERVE_MS, SEGMENT_GAP_MS, type UwsCase } from './cases.js';

export interface Observation {
  /** Status of the answer, null when no complete response head came back. */
  readonly status: number | null;
  /** Bytes received from the gateway. */
  readonly bytes: number;
  /** ms from connect until the gateway closed the connection; null if it answered, never closed, or refused. */
  readonly closedAfterConnectMs: number | null;
  /** ms from the last write (or the close, when that came first) until the gateway closed it. */
  readonly closedAfterSendMs: number | null;
}

export interface RunningCase {
  /** Settles once every segment is written, or the gateway closed the connection first. */
  readonly sent: Promise<void>;
  /** True until the connection is closed. */
  isOpen(): boolean;
  /** Settles once the gateway answered (a complete response head), closed, or OBSERVE_MS passed. */
  readonly observed: Promise<Observation>;
}

/**
 * Sends a case's bytes to 127.0.0.1:`port` as the case says, with Nagle off. Segments are written
 * one at a time, each write awaited and SEGMENT_GAP_MS apart, so that each lands in its own read.
 */
export function startCase(port: number, c: UwsCase): RunningCase {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => {}); // a reset, or a write after the gateway closed: the close event tells
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    void closed.then(() => resolve(false));
  });
  let open = true;
  let closedByUs = false;
  let connectedAt = 0;
  let sentAt = 0;
  let received = '';
  let status: number | null = null;
  const closeOurselves = (): void => {
    closedByUs = true;
    socket.destroy();
  };

  const parts = c.sending.kind === 'one-write' ? [c.bytes] : chunks(c.bytes, c.sending.size);
  const sent = connected.then(async (ok) => {
    connectedAt = performance.now();
    for (const [i, part] of (ok ? parts : []).entries()) {
      if (i > 0) await Promise.race([sleep(SEGMENT_GAP_MS), closed]);
      if (!open) break;
      await Promise.race([new Promise((resolve) => socket.write(part, 'latin1', resolve)), closed]);
    }
    sentAt = performance.now();
  });

  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    if (!received.includes('\r\n\r\n')) return;
    status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? -1);
    closeOurselves(); // the status is all a case pins
  });

  const deadline = setTimeout(closeOurselves, OBSERVE_MS);
  const observed = closed.then(async () => {
    open = false;
    clearTimeout(deadline);
    const at = performance.now();
    await sent;
    const byGateway = (await connected) && !closedByUs;
    return {
      status,
      bytes: Buffer.byteLength(received, 'latin1'),
      closedAfterConnectMs: byGateway ? at - connectedAt : null,
      closedAfterSendMs: byGateway ? Math.max(0, at - sentAt) : null,
    };
  });
  return { sent, isOpen: () => open, observed };
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
