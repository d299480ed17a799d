import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxy } from 'proxy';

/** A real forward proxy (CONNECT tunnels and plain forwarding) that records where it was asked to go. */
export interface ForwardProxy {
  /** `http://[user:password@]127.0.0.1:port` */
  url: string;
  /** `host:port` of every tunnel asked for, accepted or not, in order. */
  tunnels: string[];
  /** Tunnels refused for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

export async function startForwardProxy(credentials?: {
  username: string;
  password: string;
}): Promise<ForwardProxy> {
  const server = createProxy();
  const state = { tunnels: [] as string[], refused: 0 };
  const sockets = new Set<Duplex>();
  server.on('connect', (req, socket: Duplex) => {
    state.tunnels.push(String(req.url));
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (credentials) {
    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    server.authenticate = (req) => {
      const ok = req.headers['proxy-authorization'] === expected;
      if (!ok) state.refused++;
      return ok;
    };
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const userinfo = credentials
    ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`
    : '';
  return {
    url: `http://${userinfo}127.0.0.1:${port}`,
    get tunnels() {
      return state.tunnels;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Tunnels are upgraded sockets, which the server no longer tracks.
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
