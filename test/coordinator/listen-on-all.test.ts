import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { us_listen_socket } from 'uWebSockets.js';
import { loadUws } from '../../src/acceptor/uws.js';
import { freePort, listenOnAll } from '../../src/coordinator/listen-address.js';
import { AcceptorStartError, Supervisor, type AcceptorHost } from '../../src/coordinator/supervisor.js';
import { createLogger } from '../../src/log.js';
import type { AcceptorInit, CoordinatorMessage } from '../../src/thread-protocol.js';
import { startGateway } from '../helpers/gateway-process.js';

/** An acceptor that binds its port on 127.0.0.1 for real, as uWS would, and says ERR_LISTEN when it cannot. */
class BindingAcceptor extends EventEmitter implements AcceptorHost {
  readonly #server: Server = createServer();

  constructor(port: number) {
    super();
    this.#server.once('error', () => this.emit('message', { type: 'fatal', code: 'ERR_LISTEN', message: `cannot listen on 127.0.0.1:${port}` }));
    this.#server.listen(port, '127.0.0.1', () => this.emit('message', { type: 'listening', port }));
  }

  postMessage(message: CoordinatorMessage): void {
    if (message.type === 'drain') this.#server.close(() => this.emit('exit', 0));
  }

  terminate(): Promise<number> {
    setImmediate(() => this.emit('exit', 1));
    return Promise.resolve(1);
  }
}

/** An acceptor that binds its port with uWS, as a real thread does: SO_REUSEPORT, so a port another ringgate listens on binds too. */
class UwsAcceptor extends EventEmitter implements AcceptorHost {
  readonly #uws = loadUws(false);
  #socket: us_listen_socket | null = null;

  constructor(port: number) {
    super();
    this.#uws.App().listen('127.0.0.1', port, (socket) => {
      this.#socket = socket === false ? null : socket;
      // uWS calls back inside listen(), before the supervisor could hear of it.
      setImmediate(() =>
        this.emit('message', socket === false ? { type: 'fatal', code: 'ERR_LISTEN', message: `cannot listen on 127.0.0.1:${port}` } : { type: 'listening', port }),
      );
    });
  }

  postMessage(message: CoordinatorMessage): void {
    if (message.type !== 'drain') return;
    if (this.#socket !== null) this.#uws.us_listen_socket_close(this.#socket);
    this.#socket = null;
    setImmediate(() => this.emit('exit', 0));
  }

  terminate(): Promise<number> {
    setImmediate(() => this.emit('exit', 1));
    return Promise.resolve(1);
  }
}

const held: Server[] = [];
/** A port another process holds, as one that took the probed port would. */
async function takenPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held.push(server);
  return (server.address() as AddressInfo).port;
}

function supervisors(acceptor: (port: number) => AcceptorHost = (port) => new BindingAcceptor(port)): { made: Supervisor[]; newSupervisor: () => Supervisor } {
  const made: Supervisor[] = [];
  const newSupervisor = (): Supervisor => {
    const supervisor = new Supervisor({
      threads: 1,
      startAcceptor: (init) => acceptor(init.port),
      initFor: (threadIndex, port) => ({ threadIndex, port }) as unknown as AcceptorInit,
      log: createLogger('silent'),
      onRestart: () => {},
      onExit: () => {},
    });
    made.push(supervisor);
    return supervisor;
  };
  return { made, newSupervisor };
}

afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('listening on every thread', () => {
  it('probes another port when another process took the probed one before the threads bound it', async () => {
    const taken = await takenPort();
    const probed: number[] = [];
    const probe = async (host: string): Promise<number> => {
      const port = probed.length === 0 ? taken : await freePort(host);
      probed.push(port);
      return port;
    };
    const { made, newSupervisor } = supervisors();
    const { supervisor, port } = await listenOnAll(0, '127.0.0.1', newSupervisor, createLogger('silent'), probe);
    expect(probed).toHaveLength(2);
    expect(port).toBe(probed[1]);
    expect(port).not.toBe(taken);
    expect(made).toHaveLength(2);
    expect(supervisor).toBe(made[1]);
    expect(made[0]!.running).toBe(0);
    expect(supervisor.running).toBe(1);
    await supervisor.drain(1_000);
  });

  it('probes another port when another ringgate probed the same one and listens on it: both binds would share it', async () => {
    const other = await startGateway({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }] } } }, { GATEWAY_THREADS: '1' });
    try {
      const probed: number[] = [];
      // The kernel handed the port the other one probed, and let go of, to this probe as well.
      const probe = async (host: string): Promise<number> => {
        const port = probed.length === 0 ? other.port : await freePort(host);
        probed.push(port);
        return port;
      };
      const { made, newSupervisor } = supervisors((port) => new UwsAcceptor(port));
      const { supervisor, port } = await listenOnAll(0, '127.0.0.1', newSupervisor, createLogger('silent'), probe);
      expect(probed).toHaveLength(2);
      expect(port).toBe(probed[1]);
      expect(port).not.toBe(other.port);
      expect(made[0]!.running).toBe(0);
      expect(supervisor.running).toBe(1);
      await supervisor.drain(1_000);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('fails at once on a fixed port another process holds: only the operator can free it', async () => {
    const taken = await takenPort();
    const { made, newSupervisor } = supervisors();
    const failure = await listenOnAll(taken, '127.0.0.1', newSupervisor, createLogger('silent')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AcceptorStartError);
    expect((failure as AcceptorStartError).code).toBe('ERR_LISTEN');
    // Refused before any thread starts: a bind with SO_REUSEPORT (uWS's) would have shared the port.
    expect(made).toHaveLength(0);
  });

  it('gives up after five probed ports were all taken', async () => {
    const ports = await Promise.all(Array.from({ length: 5 }, takenPort));
    const { made, newSupervisor } = supervisors();
    const failure = await listenOnAll(0, '127.0.0.1', newSupervisor, createLogger('silent'), async () => ports[made.length - 1]!).catch((err: unknown) => err);
    expect((failure as AcceptorStartError).code).toBe('ERR_LISTEN');
    expect(made).toHaveLength(5);
    expect(made.every((supervisor) => supervisor.running === 0)).toBe(true);
  });
});
