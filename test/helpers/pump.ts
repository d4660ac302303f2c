/** What pump writes to: a socket, a request, a response. */
interface Sink {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * Writes `total` bytes to `sink` in 64 KiB chunks as fast as it takes them (waiting for 'drain'
 * when it pushes back); resolves once all of them are handed over, or when `stop` says so.
 */
export function pump(sink: Sink, total: number, stop: () => boolean = () => false): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    const more = (): void => {
      while (sent < total && !stop()) {
        sent += CHUNK.length;
        if (!sink.write(CHUNK)) return void sink.once('drain', more);
      }
      resolve();
    };
    more();
  });
}
