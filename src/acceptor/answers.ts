import { STATUS_CODES } from 'node:http';
import { ANSWERED_CODES, ERRORS, errorBody, type AnsweredCode } from '../errors.js';
import { NO_LISTENER, type HeaderField } from './client-contract.js';
import { whenBodyDropped, type RequestBody } from './request-body.js';
import type { ClientResponse } from './uws-adapter.js';

// "200 OK" for every status, built once: uWS wants the whole status text.
const STATUS_LINES: string[] = [];
for (let status = 100; status < 600; status++) {
  STATUS_LINES[status] = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Unknown`;
}

/** Each error's status and JSON body, built once at start-up. */
const ERROR_BODIES = new Map<AnsweredCode, string>(ANSWERED_CODES.map((code) => [code, errorBody(code)]));

export function errorStatus(code: AnsweredCode): number {
  return ERRORS[code].status;
}

export function errorJson(code: AnsweredCode): string {
  return ERROR_BODIES.get(code)!;
}

/**
 * Answers, then closes the connection having parsed nothing more from it. uWS parses and
 * dispatches the bytes pipelined after a request as soon as its handler returns, whatever
 * `Connection: close` says (a smuggled request rides there); a request that arrives while a
 * response is still pending makes uWS drop the connection instead. So the answer waits for the
 * next turn of the event loop: with nothing pipelined it goes out, then the connection closes;
 * otherwise uWS has closed the connection and `onDone` hears `false`. With `dropBody`, the answer
 * waits for the request's body to be read and dropped first (whenBodyDropped).
 */
export function answerThenClose(
  client: ClientResponse,
  statusLine: string,
  body: string,
  retryAfter: string | null,
  extra: readonly HeaderField[] | null,
  onDone: (answered: boolean) => void,
  dropBody = false,
  pendingBody: RequestBody | null = null,
): void {
  client.attach(NO_LISTENER);
  const answer = (): void => {
    const answered = !client.responded;
    client.answerJson(statusLine, body, true, retryAfter, extra);
    onDone(answered);
  };
  if (dropBody) whenBodyDropped(client, pendingBody, answer);
  else setImmediate(answer);
}
