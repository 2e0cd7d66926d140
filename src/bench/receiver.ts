/**
 * Benchmark receiver, run as its own process so it never shares an event loop with what it
 * measures. Answers 204 at once and records when each event arrived (event_id from the body,
 * or a counter for the plain loop). The parent asks for the records over IPC.
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
      // The event id sits near the end of an opencity body; a regex beats JSON.parse here.
      const m = /"event_id":"([^"]+)"/.exec(Buffer.concat(chunks).toString());
      if (m) arrivals.push([m[1], t]);
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'count') process.send!({ count });
  if (msg.cmd === 'arrivals') process.send!({ arrivals: arrivals.splice(0) });
  if (msg.cmd === 'reset') {
    count = 0;
    arrivals.length = 0;
    process.send!({ ok: true });
  }
  if (msg.cmd === 'exit') server.close(() => process.exit(0));
});
