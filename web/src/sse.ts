/**
 * Server-Sent Events over fetch. EventSource cannot send an Authorization header, and the token
 * must not go in the URL, so the stream is read by hand: the same text format, the same resume
 * with Last-Event-ID after a drop.
 *
 * States: connecting → open → (dropped → connecting …) → closed. `close()` ends it for good;
 * a 401/404 or a `gone` event end it too.
 */
import { authHeaders, problemOf, type ApiProblem } from './api.js';

export type StreamState = 'connecting' | 'open' | 'closed';

export interface StreamHandlers {
  onEvent(type: string, data: string, id: string | null): void;
  onState(state: StreamState, problem?: ApiProblem): void;
}

/** `lastEventId`: resume after this event (e.g. the newest capture already listed). */
export function openStream(path: string, h: StreamHandlers, lastEventId: string | null = null): () => void {
  const ac = new AbortController();
  let lastId: string | null = lastEventId;
  let retryMs = 1000;
  let closed = false;

  const finish = (problem?: ApiProblem) => {
    if (closed) return;
    closed = true;
    ac.abort();
    h.onState('closed', problem);
  };

  async function connectOnce(): Promise<void> {
    h.onState('connecting');
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
    if (lastId !== null) headers['last-event-id'] = lastId;
    const res = await fetch(path, { headers, signal: ac.signal, cache: 'no-store', credentials: 'omit' });
    if (!res.ok || !res.body) {
      const problem = await problemOf(res);
      if (res.status === 401 || res.status === 403 || res.status === 404) return finish(problem);
      throw problem;
    }
    h.onState('open');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let type = 'message';
    let data: string[] = [];
    let id: string | null = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl: number;
      while ((nl = buf.search(/\r?\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' ? 2 : 1));
        if (line === '') {
          if (id !== null) lastId = id;
          if (data.length > 0 || type !== 'message') {
            h.onEvent(type, data.join('\n'), id);
            if (type === 'gone') return finish();
          }
          type = 'message';
          data = [];
          id = null;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') type = v;
        else if (field === 'data') data.push(v);
        else if (field === 'id') id = v;
        else if (field === 'retry' && /^\d+$/.test(v)) retryMs = Number(v);
      }
    }
  }

  (async () => {
    while (!closed) {
      try {
        await connectOnce();
      } catch (err) {
        if ((err as Error).name === 'AbortError') return;
      }
      if (closed) return;
      h.onState('connecting');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  })();

  return () => finish();
}
