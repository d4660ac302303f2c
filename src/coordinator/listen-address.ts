import { createServer, type AddressInfo } from 'node:net';

/**
 * uWS sets SO_REUSEPORT only for a fixed port, so threads cannot share an ephemeral one: for
 * GATEWAY_PORT=0 the coordinator asks the kernel for a free port and gives every thread that one.
 */
export async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Admin writes without a token are allowed only on these. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
