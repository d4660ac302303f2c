import { request } from 'node:http';
import { expect } from 'vitest';
import { ERRORS, type AnsweredCode } from '../../src/errors.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  /** An array sends the field once a value. */
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  tenant?: string;
}

/** One request on a fresh connection (so the kernel spreads requests over acceptor threads). */
export function send(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (options.tenant !== undefined) headers['x-tenant-id'] = options.tenant;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString() });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The gateway answered `code`, with its registered status and a `{error, code}` JSON body. */
export function expectError(reply: { status: number; text: string }, code: AnsweredCode): void {
  expect({ status: reply.status, code: (JSON.parse(reply.text) as { code: string }).code }).toEqual({ status: ERRORS[code].status, code });
  expect(typeof (JSON.parse(reply.text) as { error: unknown }).error).toBe('string');
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pooled<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
