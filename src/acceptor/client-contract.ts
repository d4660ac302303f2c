/** What the owner of a response (a ClientResponse, uws-adapter.ts) hears from the client side. */
export interface ClientListener {
  /** The client went away before the response was complete (never called for a close of ours). */
  clientAborted(): void;
  /** A write that hit backpressure has drained: more may be written. */
  clientWritable(): void;
  /** The response's last bytes are about to be handed to the socket. */
  beforeLastBytes(): void;
}

export const NO_LISTENER: ClientListener = { clientAborted() {}, clientWritable() {}, beforeLastBytes() {} };

/** A header name or value as uWS writes it: raw bytes (forwarded ones), or a string the gateway made. */
export type HeaderField = Uint8Array | string;
