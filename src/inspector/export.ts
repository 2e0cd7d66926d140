/**
 * Turning captures into things other tools read: a curl command, HAR 1.2 entries
 * (http://www.softwareishard.com/blog/har-12-spec/) and the JSON export. Pure: no I/O; the
 * routes stream the pieces so an export of 500 × 10 MiB never sits in memory at once.
 */
import { STATUS_CODES } from 'node:http';
import type { Bin, Capture } from '../store/index.js';
import { bodyBytes, captureUrl, type CaptureOut } from './views.js';

/** Headers a resend must not copy: they describe the old connection, not the message. */
export const HOP_BY_HOP = new Set([
  'host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'expect',
]);

export function resendHeaders(pairs: [string, string][]): [string, string][] {
  return pairs.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
}

/** POSIX shell single-quoting: safe for any text without NUL (which text bodies never hold). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that resends the capture to `url` (the bin itself by default). */
export function curlCommand(c: Capture, url: string): string {
  // One option per line, with its value.
  let first = 'curl';
  if (c.method === 'HEAD') first += ' --head';
  else if (!(c.method === 'GET' && c.size === 0)) first += ` -X ${c.method}`;
  if (/[[\]{}]/.test(url)) first += ' --globoff';
  const lines = [`${first} ${shellQuote(url)}`];
  for (const [name, value] of resendHeaders(c.headers)) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  let prefix = '';
  if (c.size > 0) {
    if (c.body_encoding === 'utf8') {
      lines.push(`--data-binary ${shellQuote(c.body)}`);
    } else {
      // Binary bodies cannot sit in a shell argument: decode them into curl's stdin.
      prefix = `printf %s ${shellQuote(c.body)} | base64 --decode | `;
      lines.push('--data-binary @-');
    }
  }
  return `${prefix}${lines.join(' \\\n  ')}\n`;
}

function cookiesOf(pairs: [string, string][]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [name, value] of pairs) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) out.push({ name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() });
    }
  }
  return out;
}

/** `HTTP/1.1`: HAR's spelling. */
const harVersion = (v: string): string => (v.startsWith('HTTP/') ? v : `HTTP/${v}`);

/**
 * One HAR 1.2 entry. The response is messo's own answer to the capture (its status); what
 * messo's custom fields add is prefixed with `_`, as the spec asks of extensions.
 */
export function harEntry(c: Capture, publicUrl: string) {
  const mimeType = c.content_type ?? '';
  const request: Record<string, unknown> = {
    method: c.method,
    url: captureUrl(publicUrl, c),
    httpVersion: harVersion(c.http_version),
    cookies: cookiesOf(c.headers),
    headers: c.headers.map(([name, value]) => ({ name, value })),
    queryString: [...new URLSearchParams(c.query)].map(([name, value]) => ({ name, value })),
    headersSize: -1,
    bodySize: c.size,
  };
  if (c.size > 0) {
    const postData: Record<string, unknown> = { mimeType, text: c.body };
    if (c.body_encoding === 'base64') postData._encoding = 'base64';
    if (/^application\/x-www-form-urlencoded\b/i.test(mimeType)) {
      // Browsers export both forms of a form post; readers pick the one they understand.
      postData.params = [...new URLSearchParams(bodyBytes(c).toString('utf8'))].map(([name, value]) => ({ name, value }));
    }
    request.postData = postData;
  }
  return {
    startedDateTime: new Date(c.received_at).toISOString(),
    time: 0,
    request,
    response: {
      status: c.response_status,
      statusText: STATUS_CODES[c.response_status] ?? '',
      httpVersion: harVersion(c.http_version),
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0, wait: 0, receive: 0 },
    _id: c.id,
    _clientIp: c.client_ip,
  };
}

export const harCreator = { name: 'messo', version: '0.1.0' };

/**
 * A HAR document as text pieces: prelude, one piece per entry (oldest first), closing.
 * `entries` is an async source so the caller can page through the store.
 */
export async function* harPieces(bin: Bin, entries: AsyncIterable<Capture>, publicUrl: string): AsyncGenerator<string> {
  yield `{"log":{"version":"1.2","creator":${JSON.stringify(harCreator)},"comment":${JSON.stringify(`messo inspector bin ${bin.id}`)},"entries":[`;
  let first = true;
  for await (const c of entries) {
    yield `${first ? '' : ','}${JSON.stringify(harEntry(c, publicUrl))}`;
    first = false;
  }
  yield ']}}';
}

/** The JSON export: the bin and every capture in full, oldest first. */
export async function* jsonPieces(binJson: unknown, entries: AsyncIterable<CaptureOut>): AsyncGenerator<string> {
  yield `{"exported_at":${JSON.stringify(new Date().toISOString())},"bin":${JSON.stringify(binJson)},"requests":[`;
  let first = true;
  for await (const c of entries) {
    yield `${first ? '' : ','}${JSON.stringify(c)}`;
    first = false;
  }
  yield ']}';
}
