/**
 * Helpers for the inspector tests: raw requests with exact headers (undici keeps names, order
 * and repeats as given), bins, and a small Server-Sent Events reader over a real connection.
 */
import { request } from 'undici';
import type { Client } from './harness.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  text: string;
  json: any;
}

/** Sends exactly these headers (a flat [name, value, …] list) and body. */
export async function send(url: string, opts: { method?: string; headers?: string[]; body?: string | Buffer } = {}): Promise<RawReply> {
  const res = await request(url, { method: (opts.method ?? 'POST') as 'POST', headers: opts.headers ?? [], body: opts.body });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, bytes, text, json };
}

export async function newBin(client: Client, body: Record<string, unknown> = {}, base = '/api/inspector'): Promise<any> {
  const r = await client.post(`${base}/bins`, body);
  if (r.status !== 201) throw new Error(`bin: ${r.status} ${r.text}`);
  return r.body;
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A live SSE connection: `next()` waits for the next event (comments are skipped). */
export class SseReader {
  private buffer = '';
  private events: SseEvent[] = [];
  private waiters: (() => void)[] = [];
  readonly done: Promise<void>;
  private controller = new AbortController();
  ended = false;

  private constructor(readonly status: number, body: ReadableStream<Uint8Array> | null) {
    this.done = this.read(body);
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    const reader = new SseReader(res.status, res.status === 200 ? res.body : null);
    reader.controller = controller;
    if (res.status !== 200) await res.text();
    return reader;
  }

  private async read(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (!body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, cut);
          this.buffer = this.buffer.slice(cut + 2);
          const ev: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') ev.id = value;
            else if (field === 'event') ev.event = value;
            else if (field === 'data') data.push(value);
            else continue;
            any = true;
          }
          if (!any) continue;
          ev.data = data.join('\n');
          this.events.push(ev);
          for (const w of this.waiters.splice(0)) w();
        }
      }
    } catch {
      /* aborted or dropped */
    } finally {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  async next(timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length === 0) {
      if (this.ended) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events.shift()!;
  }

  /** The next `request` events, skipping others, as parsed captures. */
  async requests(count: number, timeoutMs = 5000): Promise<{ id: string; capture: any }[]> {
    const out: { id: string; capture: any }[] = [];
    while (out.length < count) {
      const ev = await this.next(timeoutMs);
      if (ev.event === 'request') out.push({ id: ev.id!, capture: JSON.parse(ev.data) });
    }
    return out;
  }

  pending(): SseEvent[] {
    return [...this.events];
  }

  close(): void {
    this.controller.abort();
  }
}
