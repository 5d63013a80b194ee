import { type AddressInfo, type Socket, connect, createServer } from 'node:net';

/** A loopback TCP proxy to a server a test can take away (connections refused, open ones cut) and bring back. */
export interface TcpProxy {
  readonly port: number;
  /** Stops listening, so new connections are refused, and cuts every open one. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) to `host:port`. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {}).on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  let listenPort = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        listenPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of open) s.destroy();
    await closed;
  };
  await listen();
  return {
    get port() {
      return listenPort;
    },
    cut,
    restore: listen,
    close: cut,
  };
}
