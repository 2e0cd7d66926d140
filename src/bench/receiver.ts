/**
 * Benchmark receiver, run as its own process so it never shares an event loop with what it
 * measures. Answers 204 at once and records when each webhook request arrived (event_id from
 * the body). The parent asks for the records over IPC.
 *
 * `node receiver.js K` listens on K ports that answer at once (K receiver origins = K endpoints
 * for messo) and on one more port that reads the request and never answers: a receiver that
 * hangs, which keeps deliveries pending for the backlog phase without refusing them (a refused
 * connection would turn the backlog into a retry storm instead of a queue).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const arrivals: [string, number][] = [];
let count = 0;
let hanging = 0;

function answer(req: IncomingMessage, res: ServerResponse): void {
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
}

const ports = Number(process.argv[2] ?? 1);
const servers = Array.from({ length: ports }, () => {
  const srv = createServer(answer);
  srv.keepAliveTimeout = 60_000;
  return srv;
});
const hang = createServer((req, res) => {
  hanging++;
  req.resume();
  // The response closes only when the client gives up (req's own 'close' fires once the body is read).
  res.on('close', () => hanging--);
});
hang.requestTimeout = 0;

const listen = (srv: typeof hang) => new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)));
void Promise.all([...servers, hang].map(listen)).then((list) => process.send!({ ports: list.slice(0, ports), hangPort: list[ports] }));

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'count') process.send!({ count, hanging });
  if (msg.cmd === 'arrivals') process.send!({ arrivals: arrivals.splice(0) });
  if (msg.cmd === 'reset') {
    count = 0;
    arrivals.length = 0;
    process.send!({ ok: true });
  }
  if (msg.cmd === 'exit') {
    for (const srv of [...servers, hang]) {
      srv.close();
      srv.closeAllConnections();
    }
    setTimeout(() => process.exit(0), 100);
  }
});
