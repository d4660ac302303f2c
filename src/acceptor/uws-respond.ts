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
