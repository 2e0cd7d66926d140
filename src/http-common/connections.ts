/**
 * A cap on open connections, overall and per client address, so that a thousand slow sockets
 * cannot exhaust the process's file descriptors nor lock other clients out: past
 * `perAddress` a client's new connections are closed at once; past `total` Node refuses any
 * new one (server.maxConnections). Behind a reverse proxy every client has the proxy's address:
 * then set the per-address cap as high as the total and let the proxy do this job.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function capConnections(server: Server, total: number, perAddress: number): { open(address: string): number } {
  server.maxConnections = total;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = (open.get(address) ?? 0) + 1;
    if (n > perAddress) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return { open: (address) => open.get(address) ?? 0 };
}
