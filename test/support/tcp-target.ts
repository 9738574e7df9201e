import { createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback target that misbehaves below HTTP (resets, hangs): a raw TCP server that keeps its open
 * connections, so that a test can count them and close them; subclasses say what a connection meets.
 */
export abstract class TcpTarget {
  readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    this.accept(socket);
  });

  /** What a new connection meets. */
  protected abstract accept(socket: Socket): void;

  /** Listens on a free loopback port. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
