/**
 * Benchmark receiver, run as its own process so it never shares an event loop with what it
 * measures. Answers 204 at once and records when each event arrived (the pratica's id, which
 * opens an opencity body, or a counter for the plain loop: the body's event_id is the delivery's
 * own, so it cannot name the event). The parent asks for the records over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const arrivals: [string, number][] = [];
let count = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const t = performance.timeOrigin + performance.now();
    count++;
    if (req.headers['webhook-id']) {
      // Each bench event is a pratica of its own, whose id opens the body; a regex beats JSON.parse.
      const m = /^\{"id":"([^"]+)"/.exec(Buffer.concat(chunks).toString());
      if (m) arrivals.push([m[1], t]);
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
// `node receiver.js K` listens on K ports (K receiver origins = K endpoints for messo).
const ports = Number(process.argv[2] ?? 1);
const servers = [server, ...Array.from({ length: ports - 1 }, () => {
  const extra = createServer((req, res) => server.emit('request', req, res));
  extra.keepAliveTimeout = 60_000;
  return extra;
})];
Promise.all(servers.map((srv) => new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)))))
  .then((list) => process.send!({ port: list[0], ports: list }));
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'count') process.send!({ count });
  if (msg.cmd === 'arrivals') process.send!({ arrivals: arrivals.splice(0) });
  if (msg.cmd === 'reset') {
    count = 0;
    arrivals.length = 0;
    process.send!({ ok: true });
  }
  if (msg.cmd === 'exit') {
    for (const srv of servers) srv.close();
    setTimeout(() => process.exit(0), 100);
  }
});
