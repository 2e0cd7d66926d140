/**
 * The capture endpoint: any method on `/in/<bin>` and any sub-path below it is recorded as
 * received and answered by the bin's response rules.
 *
 * This plugin has its own content-type parsing (every type, as raw bytes) and its own body
 * limit (MESSO_INSPECTOR_BODY_LIMIT, 413 beyond it), separate from the API's. The bin is looked
 * up before the body is read, so requests to unknown bins cost no body buffering. Headers come
 * from `rawHeaders`: names as sent, order and repeats kept.
 *
 * Answers carry `Content-Security-Policy: sandbox` and `nosniff`: a rule may script an HTML
 * body, and it must not run with the privileges of the messo origin (the dashboard's).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { prefixedId } from '../domain/ids.js';
import { ApiError, notFound } from '../http-common/errors.js';
import type { Bin } from '../store/index.js';
import { busFor } from './bus.js';
import { allowedResponseHeader, MAX_DELAY_MS, stepFor } from './rules.js';
import { encodeBody, signatureVerdict } from './views.js';

/** How long a tenant's captured-bytes total is trusted before it is summed again. */
const USAGE_TTL_MS = 1000;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

const bins = new WeakMap<FastifyRequest, Bin>();

function pairsOf(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

/** `/in/<bin>/a/b?x=1` → sub-path `/a/b` and query `x=1`, both exactly as sent. */
export function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const m = /^\/in\/[^/]*(.*)$/.exec(pathname);
  return { path: m ? m[1] : pathname, query: q < 0 ? '' : url.slice(q + 1) };
}

/**
 * Fastify does not read a body on GET, HEAD or TRACE; webhook.site users still expect to see
 * one when it is sent, so read it here under the same limit.
 */
async function readUnparsedBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const length = raw.headers['content-length'];
  if (raw.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return Buffer.alloc(0);
  if (length !== undefined && Number(length) > limit) throw new ApiError('payload_too_large', `the body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError('payload_too_large', `the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export const captureRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.runtime;
  const bus = busFor(store);
  const limit = config.inspectorBodyLimit;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) => done(null, body));

  // Scripted delays end early at shutdown, so a 30 s delay never holds a deploy.
  const delays = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const finish of delays) finish();
  });
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      delays.delete(finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    delays.add(finish);
  });

  // A tenant's captured bytes, read from the store at most once per USAGE_TTL_MS and counted
  // up here in between: summing every capture on each request would cost more than the capture.
  // Deletions show within USAGE_TTL_MS; with several processes each may overshoot by what it
  // took in that time.
  const usage = new Map<string, { bytes: number; at: number }>();
  const capturedBytes = async (tenantId: string, now: number): Promise<number> => {
    const cached = usage.get(tenantId);
    if (cached && now - cached.at < USAGE_TTL_MS) return cached.bytes;
    if (usage.size > 10_000) usage.clear();
    const fresh = { bytes: (await store.inspector.usage(tenantId, now)).bytes, at: now };
    usage.set(tenantId, fresh);
    return fresh.bytes;
  };

  app.addHook('onRequest', async (request) => {
    const bin = await store.inspector.findLiveBin((request.params as { binId: string }).binId);
    if (!bin) throw notFound('bin');
    bins.set(request, bin);
  });

  const handler = async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const receivedAt = Date.now();
    const bytes = Buffer.isBuffer(request.body) ? request.body : await readUnparsedBody(request.raw, limit);
    const found = bins.get(request)!;
    const id = prefixedId('req');
    const { path, query } = splitTarget(request.raw.url ?? request.url);
    const { body, encoding } = encodeBody(bytes);
    const fields = {
      id, bin_id: found.id, method: request.method, path, query, http_version: request.raw.httpVersion,
      headers: pairsOf(request.raw.rawHeaders), content_type: request.headers['content-type'] ?? null, body,
      body_encoding: encoding, size: bytes.length, client_ip: request.ip ?? null, received_at: receivedAt,
    };
    if (found.tenant_id !== null) {
      const max = config.maxCapturedBytesPerTenant;
      const used = await capturedBytes(found.tenant_id, receivedAt);
      if (used + bytes.length > max) {
        throw new ApiError('quota_exceeded', `the bin's tenant holds ${used} bytes of captures; at most ${max} are allowed (MESSO_MAX_CAPTURED_BYTES_PER_TENANT): delete captures or bins`, { field: 'body' });
      }
    }
    // Judged outside the transaction: an HMAC over 10 MiB takes a few milliseconds.
    const signature = found.secret === null ? null : signatureVerdict(found.secret, fields);
    const recorded = await store.inspector.recordCapture(found.id, receivedAt, (bin) => (
      { ...fields, response_status: stepFor(bin.responses, bin.hits)?.step.status ?? 200, signature }
    ));
    if (!recorded) throw notFound('bin');
    const counted = found.tenant_id === null ? undefined : usage.get(found.tenant_id);
    if (counted) counted.bytes += bytes.length;
    bus.emit(found.id, recorded.capture.seq);

    reply.header('content-security-policy', 'sandbox');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('access-control-allow-origin', '*');
    const chosen = stepFor(recorded.bin.responses, recorded.bin.hits);
    if (!chosen) return reply.status(200).send({ ok: true, id });
    const { step } = chosen;
    if (step.delay_ms) await pause(Math.min(step.delay_ms, MAX_DELAY_MS));
    // Rules stored before a header was reserved are filtered here too.
    for (const [name, value] of Object.entries(step.headers ?? {})) if (allowedResponseHeader(name, value)) reply.header(name, value);
    return reply.status(step.status).send(step.body ?? '');
  };

  for (const url of ['/in/:binId', '/in/:binId/*']) {
    app.route({ method: METHODS, url, bodyLimit: limit, exposeHeadRoute: false, schema: { hide: true }, handler });
  }
};
