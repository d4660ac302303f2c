import { connect } from 'node:net';

export interface RawResult {
  /** Everything the gateway sent, latin1. */
  text: string;
  /** The gateway closed the connection (rather than our timeout ending it). */
  closedByPeer: boolean;
}

/** Writes raw bytes to the gateway and collects what comes back until it closes or `waitMs` passes. */
export function rawExchange(port: number, payload: string | Buffer, waitMs = 1000): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closedByPeer = true;
    const timer = setTimeout(() => {
      closedByPeer = false;
      socket.destroy();
    }, waitMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByPeer });
    });
    socket.write(payload);
  });
}

/** Status codes of every response in a raw byte stream, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** JSON bodies (one per response) found in a raw byte stream. */
export function jsonBodies(text: string): Record<string, unknown>[] {
  return [...text.matchAll(/\{[^{}]*\}/g)].map((m) => JSON.parse(m[0]) as Record<string, unknown>);
}
