import { BlockList, createServer, isIP, type AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { otherListeners } from './port-listeners.js';
import { AcceptorStartError, type Supervisor } from './supervisor.js';

/**
 * uWS sets SO_REUSEPORT only for a fixed port, so threads cannot share an ephemeral one: for
 * GATEWAY_PORT=0 the coordinator asks the kernel for a free port and gives every thread that one.
 */
export function freePort(host: string): Promise<number> {
  return bindOnce(0, host);
}

/** Binds host:port (0: any free port) with a plain socket, no SO_REUSEPORT, and lets it go; the port it had. */
async function bindOnce(port: number, host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen({ port, host, exclusive: true }, resolve));
  const bound = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return bound;
}

/** Ports probed for GATEWAY_PORT=0 before the start gives up. */
const EPHEMERAL_PORT_TRIES = 5;

/**
 * Starts every thread on the configured port, or on a probed free one for port 0. Another process
 * can bind the probed port between the probe and the threads' binds: then the threads that did
 * listen are drained and a new supervisor starts on a newly probed port. So too when the threads
 * bound it beside another ringgate that probed the same port meanwhile (the kernel hands a freed
 * port out again): both binds have SO_REUSEPORT, so both succeed, and each process would answer
 * some of the other's connections; seen once the threads listen, from the port's listeners
 * (port-listeners.ts, Linux). A fixed port that cannot be bound fails at once: nothing but the
 * operator can free it.
 */
export async function listenOnAll(
  configuredPort: number,
  host: string,
  newSupervisor: () => Supervisor,
  log: Logger,
  probe: (host: string) => Promise<number> = freePort,
): Promise<{ supervisor: Supervisor; port: number }> {
  // uWS binds with SO_REUSEPORT, so a fixed port another ringgate (or any SO_REUSEPORT socket of
  // this user) listens on would be shared, the kernel splitting connections between the two
  // processes. A plain bind (no SO_REUSEPORT) fails on any listener: refuse the start instead.
  if (configuredPort !== 0) await assertUnshared(configuredPort, host);
  for (let attempt = 1; ; attempt++) {
    const supervisor = newSupervisor();
    try {
      const port = await supervisor.start(configuredPort === 0 ? await probe(host) : configuredPort);
      if (configuredPort === 0 && (otherListeners(port) ?? 0) > 0) {
        throw new AcceptorStartError('ERR_LISTEN', `another process listens on the probed port ${port} too`);
      }
      return { supervisor, port };
    } catch (err) {
      await supervisor.drain(0);
      const probedPortTaken = configuredPort === 0 && err instanceof AcceptorStartError && err.code === 'ERR_LISTEN';
      if (!probedPortTaken || attempt === EPHEMERAL_PORT_TRIES) throw err;
      log.warn({ attempt }, 'another process took (or shares) the probed free port; probing another');
    }
  }
}

/** Fails with ERR_LISTEN when something already listens on host:port, SO_REUSEPORT or not. */
async function assertUnshared(port: number, host: string): Promise<void> {
  try {
    await bindOnce(port, host);
  } catch (err) {
    throw new AcceptorStartError('ERR_LISTEN', `cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
}

/** 127.0.0.0/8 and ::1, in any spelling (an IPv4-mapped ::ffff:127.x.y.z too). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether `address`, an IP literal (as a socket reports the address it is bound to), is a loopback one. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Admin writes without a token are allowed only on these: `localhost` or a loopback IP literal.
 * Any other host name is not loopback, whatever it starts with (`127.example.com` may resolve to
 * any address); the admin server checks the address it actually bound to as well.
 */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}
