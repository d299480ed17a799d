import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service that passes requests through at once and answers at a given
 * rate, so that a large response is still being read seconds after it began: the state of a consumer
 * reading a big object from S3 when it is asked to stop.
 */
export async function startThrottleProxy(targetUrl: string, bytesPerSecond: number) {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const sliceBytes = 4096;
  const sliceMs = (sliceBytes / bytesPerSecond) * 1000;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      let offset = 0;
      const next = () => {
        if (client.destroyed) return;
        client.write(chunk.subarray(offset, offset + sliceBytes));
        offset += sliceBytes;
        if (offset < chunk.length) setTimeout(next, sliceMs);
        else upstream.resume();
      };
      next();
    });
    // The upstream's end is passed on only after its last slice has been written.
    upstream.on('end', () => {
      const finish = () => (upstream.isPaused() ? setTimeout(finish, sliceMs) : client.end());
      finish();
    });
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // The upstream closing after its response (moto closes every connection) must not cut the slices
    // still to be written; the client's own close or either side's error ends both.
    client.on('error', cleanup).on('close', cleanup);
    upstream.on('error', cleanup);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
