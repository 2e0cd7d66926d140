/**
 * Replay: resend a capture to any URL and show the receiver's answer, like the back office's
 * "test" button. It goes through the same SSRF-guarded sender as deliveries, so a tenant
 * cannot use it to reach the municipality's intranet or the cloud metadata service. A refused
 * target is the client's mistake (400, field `url`, nothing sent); any other failure to get an
 * answer (refused connection, timeout…) is a result, reported with its class.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createAddressPolicy } from '../outbound/address-guard.js';
import { isOwnInspectorUrl } from '../outbound/client.js';
import { createSender } from '../outbound/sender.js';
import { ref } from '../http-common/components.js';
import { invalid } from '../http-common/errors.js';
import { ok } from '../http-common/openapi.js';
import type { Bin, Capture } from '../store/index.js';
import { resendHeaders } from './export.js';
import { bodyBytes } from './views.js';

const ReplayBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL to resend to' }),
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,20}$', description: 'default: the captured method' })),
}, { additionalProperties: false });

const CaptureParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), rid: Type.String({ minLength: 1, maxLength: 100 }) });

/** Response bodies kept in a replay result: enough for an error page or a JSON answer. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function replayRoute(deps: { captureOf(request: FastifyRequest): Promise<{ bin: Bin; capture: Capture }> }): FastifyPluginAsync {
  return async (app) => {
    const { config } = app.runtime;
    const opts = {
      connectTimeoutMs: config.connectTimeoutMs,
      timeoutMs: config.requestTimeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      userAgent: 'messo-inspector-replay',
    };
    const sender = createSender({ ...opts, policy: createAddressPolicy(config.allowedTargets) });
    // As for deliveries (src/outbound/client.ts): this server's own inspector, `<public URL>/in/…`,
    // is the one target the guard lets pass, even when the public URL is a loopback address.
    const own = createSender({ ...opts, policy: createAddressPolicy(['0.0.0.0/0', '::/0']) });
    app.addHook('onClose', async () => {
      await Promise.all([sender.close(), own.close()]);
    });

    app.post<{ Body: Static<typeof ReplayBody> }>('/bins/:id/requests/:rid/replay', {
      schema: {
        tags: ['inspector'], operationId: 'replayCapture', summary: 'Resend a capture (method, headers, body) to a URL and return the answer',
        params: CaptureParams, body: ReplayBody, response: ok(200, ref('ReplayResult')),
      },
    }, async (request) => {
      const { capture } = await deps.captureOf(request);
      let url: URL;
      try {
        url = new URL(request.body.url);
      } catch {
        throw invalid('url', 'is not a URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url', 'must be an http or https URL');

      // The sender takes one value per name: repeats are joined as HTTP allows (RFC 9110 5.3).
      const headers: Record<string, string> = {};
      for (const [name, value] of resendHeaders(capture.headers)) {
        const key = name.toLowerCase();
        headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
      }
      const method = (request.body.method ?? capture.method).toUpperCase();
      const body = bodyBytes(capture);
      const result = await (isOwnInspectorUrl(url, config.publicUrl) ? own : sender).send({ url: url.toString(), method, headers, body: body.length > 0 ? body : '' });
      if (result.kind === 'error') {
        if (result.errorClass === 'refused_target') throw invalid('url', `target refused by the address guard: ${result.message}`);
        return { ok: false, url: url.toString(), method, error_class: result.errorClass, error: result.message, duration_ms: result.durationMs };
      }
      return {
        ok: result.ok, url: url.toString(), method, status_code: result.statusCode, headers: result.headers,
        body: result.body, body_truncated: result.truncated, duration_ms: result.durationMs,
      };
    });
  };
}
