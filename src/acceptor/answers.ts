import { STATUS_CODES } from 'node:http';
import { ANSWERED_CODES, ERRORS, errorBody, type AnsweredCode } from '../errors.js';

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
