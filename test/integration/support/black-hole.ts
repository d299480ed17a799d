import { createServer } from 'node:net';

/**
 * An HTTP endpoint that accepts connections and never answers: requests to it hang, so a sink pointed at it
 * keeps work in flight until its grace runs out.
 */
export async function startBlackHole(): Promise<{ url: string; close(): void }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
