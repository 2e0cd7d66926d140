/**
 * Managing bins and reading their captures. The same routes serve two audiences:
 *
 * - `/api/inspector/…` behind the API's bearer auth: a tenant's bins (another tenant's → 404);
 * - `/public/inspector/…` without auth, when MESSO_INSPECTOR_PUBLIC=true: anonymous bins, where
 *   the bin id (128 random bits) is the capability, as on webhook.site. Anonymous bins cannot
 *   replay (that would make messo an open relay) and cannot be listed.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { prefixedId } from '../domain/ids.js';
import { verify } from '../domain/signing.js';
import { ApiError, invalid, notFound } from '../http-common/errors.js';
import { limiter } from '../http-common/quotas.js';
import { ref } from '../http-common/components.js';
import { noContent, ok, problems, text } from '../http-common/openapi.js';
import { timeParam } from '../http-common/schemas.js';
import type { Bin, BinOwner, Capture } from '../store/index.js';
import { curlCommand, harPieces, jsonPieces } from './export.js';
import { replayRoute } from './replay.js';
import { checkResponses, MAX_DELAY_MS, MAX_RULE_BODY_CHARS, MAX_STEPS } from './rules.js';
import { MAX_STREAMS_PER_BIN, OpenStreams, streamCaptures } from './stream.js';
import { binOut, captureOut, PREVIEW_CHARS } from './views.js';

/** SUBSTR length meaning "the whole body" (fits a 32-bit integer parameter on PostgreSQL). */
const WHOLE = 2_147_483_647;

const Step = Type.Object({
  status: Type.Integer({ minimum: 200, maximum: 599 }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { maxProperties: 50 })),
  body: Type.Optional(Type.String({ maxLength: MAX_RULE_BODY_CHARS })),
  delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS })),
  times: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'answer this many requests, then go to the next step; absent: every request from here on' })),
}, { additionalProperties: false });

const BinFields = {
  name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  secret: Type.Optional(Type.Union([Type.String({ maxLength: 200, description: 'whsec_…: every capture then shows its Standard Webhooks verdict' }), Type.Null()])),
  responses: Type.Optional(Type.Union([Type.Array(Step, { maxItems: MAX_STEPS }), Type.Null()], { description: 'scripted answers, e.g. [{"status":500,"times":3},{"status":200}]; empty or null: 200 with a JSON acknowledgement' })),
  max_requests: Type.Optional(Type.Integer({ minimum: 1, description: 'captures kept, oldest dropped first (default and maximum: server setting)' })),
};
const CreateBin = Type.Object({
  ...BinFields,
  ttl_sec: Type.Optional(Type.Integer({ minimum: 1, description: 'lifetime in seconds (default and maximum: server setting)' })),
}, { additionalProperties: false });
const PatchBin = Type.Object(BinFields, { additionalProperties: false, minProperties: 1 });

const BinParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const CaptureParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), rid: Type.String({ minLength: 1, maxLength: 100 }) });

const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'text to find in headers, body, path or query (case-insensitive)' })),
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,20}$' })),
  since: Type.Optional(Type.String({ description: 'received at or after (ISO 8601 or Unix seconds)' })),
  until: Type.Optional(Type.String({ description: 'received at or before (ISO 8601 or Unix seconds)' })),
  order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { description: 'newest first (default) or oldest first' })),
});

export interface BinRoutesOptions {
  /** Whose bins these routes reach: a tenant id, or null for anonymous bins. */
  ownerOf(request: FastifyRequest): Promise<BinOwner>;
  anonymous: boolean;
}

export function binRoutes(opts: BinRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    const { store, config } = app.runtime;
    const tags = ['inspector'];
    const security = opts.anonymous ? [] : undefined;
    // The same operations twice (tenant bins, anonymous bins): distinct ids for the document.
    const opId = (name: string) => (opts.anonymous ? `public${name[0].toUpperCase()}${name.slice(1)}` : name);
    const publicUrl = () => config.publicUrl;
    const openStreams = new OpenStreams();
    const anonymousBins = limiter(app, {
      name: 'anonymous-bins', max: config.anonymousBinsPerHour, windowMs: 3_600_000, key: (r) => r.ip,
      what: 'too many anonymous bins created from this address (MESSO_ANONYMOUS_BINS_PER_HOUR)',
    });
    app.addHook('preClose', async () => openStreams.closeAll());

    async function binOf(request: FastifyRequest): Promise<Bin> {
      const bin = await store.inspector.getBin(await opts.ownerOf(request), (request.params as { id: string }).id);
      if (!bin) throw notFound('bin');
      return bin;
    }

    function checkBinFields(body: Static<typeof PatchBin>): void {
      if (body.secret) {
        const probe = verify(body.secret, {}, '');
        if (!probe.valid && probe.reason === 'invalid_secret') throw invalid('secret', probe.detail);
      }
      if (body.max_requests !== undefined && body.max_requests > config.inspectorMaxRequests) {
        throw invalid('max_requests', `must be at most ${config.inspectorMaxRequests} (MESSO_INSPECTOR_MAX_REQUESTS)`);
      }
      const problems = checkResponses(body.responses ?? []);
      if (problems.length > 0) {
        throw new ApiError('validation', problems.map((p) => `${p.field}: ${p.message}`).join('; '), { field: problems[0].field, errors: problems });
      }
    }

    app.post<{ Body: Static<typeof CreateBin> }>('/bins', {
      schema: {
        tags, security, operationId: opId('createBin'), summary: 'Create a bin: a URL that records every request sent to it',
        body: CreateBin, response: ok(201, ref('Bin'), 'Created'),
      },
    }, async (request, reply) => {
      const owner = await opts.ownerOf(request);
      const body = request.body;
      checkBinFields(body);
      if (owner === null) await anonymousBins.take(request, reply);
      else if ((await store.inspector.usage(owner)).bins >= config.maxBinsPerTenant) {
        throw new ApiError('quota_exceeded', `this tenant has ${config.maxBinsPerTenant} live bins, the most allowed (MESSO_MAX_BINS_PER_TENANT); delete one first`, { field: 'bins' });
      }
      if (body.ttl_sec !== undefined && body.ttl_sec > config.inspectorBinTtlSec) {
        throw invalid('ttl_sec', `must be at most ${config.inspectorBinTtlSec} (MESSO_INSPECTOR_BIN_TTL_SEC)`);
      }
      const now = Date.now();
      const bin = await store.inspector.createBin({
        // 16 random bytes: the id is the capability of an anonymous bin, so at least 128 bits.
        id: prefixedId('bin', 16), tenant_id: owner, name: body.name ?? null, secret: body.secret ?? null,
        responses: body.responses?.length ? body.responses : null,
        max_requests: body.max_requests ?? config.inspectorMaxRequests,
        created_at: now, expires_at: now + (body.ttl_sec ?? config.inspectorBinTtlSec) * 1000,
      });
      return reply.status(201).send(binOut(bin, publicUrl()));
    });

    if (!opts.anonymous) {
      app.get<{ Querystring: { limit?: number; cursor?: string } }>('/bins', {
        schema: {
          tags, operationId: 'listBins', summary: "List the tenant's live bins, oldest first", response: ok(200, ref('BinPage')),
          querystring: Type.Object({ limit: ListQuery.properties.limit, cursor: ListQuery.properties.cursor }),
        },
      }, async (request) => {
        const page = await store.inspector.listBins((await opts.ownerOf(request))!, { limit: request.query.limit ?? 50, cursor: request.query.cursor });
        return { items: page.items.map((b) => binOut(b, publicUrl())), next_cursor: page.next_cursor };
      });
    }

    app.get('/bins/:id', {
      schema: { tags, security, operationId: opId('getBin'), summary: 'Get a bin', params: BinParams, response: ok(200, ref('Bin')) },
    }, async (request) => binOut(await binOf(request), publicUrl()));

    app.patch<{ Body: Static<typeof PatchBin> }>('/bins/:id', {
      schema: {
        tags, security, operationId: opId('updateBin'), summary: 'Change name, secret, response rules (restarting the sequence) or cap',
        params: BinParams, body: PatchBin, response: ok(200, ref('Bin')),
      },
    }, async (request) => {
      const bin = await binOf(request);
      checkBinFields(request.body);
      const { responses, ...rest } = request.body;
      const patch = responses === undefined ? rest : { ...rest, responses: responses?.length ? responses : null };
      const updated = await store.inspector.updateBin(bin.tenant_id, bin.id, patch);
      if (!updated) throw notFound('bin');
      return binOut(updated, publicUrl());
    });

    app.delete('/bins/:id', {
      schema: { tags, security, operationId: opId('deleteBin'), summary: 'Delete a bin and its captures', params: BinParams, response: noContent },
    }, async (request, reply) => {
      const bin = await binOf(request);
      await store.inspector.deleteBin(bin.tenant_id, bin.id);
      return reply.status(204).send();
    });

    app.get<{ Querystring: Static<typeof ListQuery> }>('/bins/:id/requests', {
      schema: {
        tags, security, operationId: opId('listCaptures'), params: BinParams, querystring: ListQuery,
        summary: 'List and search captures, newest first; bodies over 64 KiB are cut (body_truncated), get one for all of it',
        response: ok(200, ref('CapturePage')),
      },
    }, async (request) => {
      const bin = await binOf(request);
      const q = request.query;
      const page = await store.inspector.listCaptures(bin.id, {
        q: q.q, method: q.method, since: timeParam('since', q.since), until: timeParam('until', q.until), order: q.order,
      }, { limit: q.limit ?? 50, cursor: q.cursor }, PREVIEW_CHARS);
      return { items: page.items.map((c) => captureOut(c, bin, publicUrl())), next_cursor: page.next_cursor };
    });

    app.delete('/bins/:id/requests', {
      schema: { tags, security, operationId: opId('clearCaptures'), summary: 'Delete every capture of a bin', params: BinParams, response: ok(200, ref('Deleted')) },
    }, async (request) => {
      const bin = await binOf(request);
      return { deleted: await store.inspector.clearCaptures(bin.id) };
    });

    async function captureOf(request: FastifyRequest): Promise<{ bin: Bin; capture: Capture }> {
      const bin = await binOf(request);
      const capture = await store.inspector.getCapture(bin.id, (request.params as { rid: string }).rid);
      if (!capture) throw notFound('request');
      return { bin, capture };
    }

    app.get('/bins/:id/requests/:rid', {
      schema: { tags, security, operationId: opId('getCapture'), summary: 'Get one capture, body in full', params: CaptureParams, response: ok(200, ref('Capture')) },
    }, async (request) => {
      const { bin, capture } = await captureOf(request);
      return captureOut(capture, bin, publicUrl());
    });

    app.delete('/bins/:id/requests/:rid', {
      schema: { tags, security, operationId: opId('deleteCapture'), summary: 'Delete one capture', params: CaptureParams, response: noContent },
    }, async (request, reply) => {
      const bin = await binOf(request);
      if (!(await store.inspector.deleteCapture(bin.id, (request.params as { rid: string }).rid))) throw notFound('request');
      return reply.status(204).send();
    });

    app.get<{ Querystring: { url?: string } }>('/bins/:id/requests/:rid/curl', {
      schema: {
        tags, security, operationId: opId('getCaptureCurl'), summary: 'The capture as a curl command (to the bin, or to ?url=)', params: CaptureParams,
        response: text('text/plain', 'a shell command'),
        querystring: Type.Object({ url: Type.Optional(Type.String({ maxLength: 2000 })) }),
      },
    }, async (request, reply) => {
      const { capture } = await captureOf(request);
      const target = request.query.url;
      if (target !== undefined && !/^https?:\/\/[^\s]+$/i.test(target)) throw invalid('url', 'must be an http(s) URL');
      const url = target ?? `${publicUrl()}/in/${capture.bin_id}${capture.path}${capture.query ? `?${capture.query}` : ''}`;
      return reply.type('text/plain; charset=utf-8').send(curlCommand(capture, url));
    });

    if (!opts.anonymous) await app.register(replayRoute({ captureOf }));

    app.get<{ Querystring: { format?: 'json' | 'har' } }>('/bins/:id/export', {
      schema: {
        tags, security, operationId: opId('exportBin'), summary: 'Export a bin with every capture in full, as JSON or HAR 1.2', params: BinParams,
        response: ok(200, ref('BinExport')),
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('har')], { default: 'json' })) }),
      },
    }, async (request, reply: FastifyReply) => {
      const bin = await binOf(request);
      // A few at a time: a bin may hold hundreds of 10 MiB bodies.
      async function* captures(): AsyncGenerator<Capture> {
        let after = 0;
        for (;;) {
          const batch = await store.inspector.capturesAfter(bin.id, after, 5, WHOLE);
          yield* batch;
          if (batch.length < 5) return;
          after = batch[batch.length - 1].seq;
        }
      }
      async function* views() {
        for await (const c of captures()) yield captureOut(c, bin, publicUrl());
      }
      const har = request.query.format === 'har';
      const pieces = har ? harPieces(bin, captures(), publicUrl()) : jsonPieces(binOut(bin, publicUrl()), views());
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${bin.id}.${har ? 'har' : 'json'}"`)
        .send(Readable.from(pieces));
    });

    app.get<{ Querystring: { last_event_id?: string } }>('/bins/:id/stream', {
      schema: {
        tags, security, operationId: opId('streamBin'), params: BinParams,
        response: { ...text('text/event-stream', 'one `request` event per capture'), ...problems(429) },
        summary: 'Server-Sent Events: each new capture as it arrives (event `request`, id = seq); resumable with Last-Event-ID',
        querystring: Type.Object({ last_event_id: Type.Optional(Type.String({ description: 'for clients that cannot send the Last-Event-ID header' })) }),
      },
    }, async (request, reply) => {
      const bin = await binOf(request);
      if (openStreams.count(bin.id) >= MAX_STREAMS_PER_BIN) {
        throw new ApiError('rate_limited', `at most ${MAX_STREAMS_PER_BIN} live streams per bin on one server; close one first`);
      }
      const header = request.headers['last-event-id'];
      const raw = (Array.isArray(header) ? header[0] : header) ?? request.query.last_event_id;
      let afterSeq: number;
      if (raw === undefined || raw.trim() === '') afterSeq = await store.inspector.lastSeq(bin.id);
      else if (/^\d{1,15}$/.test(raw.trim())) afterSeq = Number(raw.trim());
      else throw invalid(header !== undefined ? 'Last-Event-ID' : 'last_event_id', 'must be the id of an event of this stream (a whole number)');
      streamCaptures(request, reply, { store, bin, publicUrl: publicUrl(), afterSeq, open: openStreams });
    });
  };
}
