import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { ERRORS, ERROR_CODES, errorBody, type ErrorCode } from '../errors.js';

// "200 OK" for every status, built once: uWS wants the whole status text.
const STATUS_LINES: string[] = [];
for (let status = 100; status < 600; status++) {
  STATUS_LINES[status] = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Unknown`;
}

const ERROR_BODIES = new Map<ErrorCode, string>(ERROR_CODES.map((code) => [code, errorBody(code)]));

/**
 * Answers a gateway error as JSON. Corked, so it is valid both inside the uWS handler and from an
 * async callback. `closeConnection` when the request's body may still be on the wire (it will not
 * be read) or the gateway is draining.
 */
export function answerError(res: HttpResponse, code: ErrorCode, closeConnection: boolean): number {
  const { status } = ERRORS[code];
  res.cork(() => {
    res
      .writeStatus(STATUS_LINES[status]!)
      .writeHeader('content-type', 'application/json')
      .end(ERROR_BODIES.get(code)!, closeConnection);
  });
  return status;
}

export function answerJson(res: HttpResponse, status: number, body: string, closeConnection: boolean): void {
  res.cork(() => {
    res.writeStatus(STATUS_LINES[status]!).writeHeader('content-type', 'application/json').end(body, closeConnection);
  });
}

/** Client address as text, with IPv4-mapped IPv6 (::ffff:a.b.c.d, as uWS prints it) shortened. */
export function remoteAddress(res: HttpResponse): string {
  const text = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
  const mapped = /^(?:0000:){5}ffff:([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(text);
  if (mapped === null) return text;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
