/**
 * "Test" a webhook, as the back office's button does: send a pratica (or a sample) at once and
 * show what the receiver answered. It goes through the same prepare stage and guarded client as
 * a delivery, so what is tested is what will be sent; nothing is stored.
 */
import { formatRome } from '../domain/dates.js';
import { EVENT_TYPES, MESSO_APP_ID } from '../domain/events.js';
import { prefixedId, uuid } from '../domain/ids.js';
import { renderPayload } from '../domain/payload.js';
import { sampleApplication } from '../domain/sample.js';
import { prepareAttempt, type PreparedRequest } from '../delivery/prepare.js';
import type { DeliveryClient } from '../outbound/client.js';
import type { Store, Webhook } from '../store/index.js';
import { InputError } from './errors.js';

export interface WebhookTestResult {
  request: PreparedRequest;
  sent_at: string;
  duration_ms: number;
  ok: boolean;
  status_code?: number;
  response_headers?: Record<string, string | string[]>;
  response_body?: string;
  response_truncated?: boolean;
  error_class?: string;
  error_message?: string;
}

export async function testWebhook(
  deps: { store: Pick<Store, 'getApplication'>; client: DeliveryClient },
  tenantId: string, webhook: Webhook, applicationId?: string,
): Promise<WebhookTestResult> {
  const now = Date.now();
  let doc;
  if (applicationId) {
    const row = await deps.store.getApplication(tenantId, applicationId);
    if (!row) throw new InputError('application_id', 'no such application for this tenant');
    doc = row.doc;
  } else {
    doc = sampleApplication(tenantId, now);
  }
  const event = {
    event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: tenantId, subject: doc.id, event_version: 1,
    event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc, from: doc.status, to: doc.status, message: null },
  };
  const payload = renderPayload(event, { format: webhook.format, version: webhook.version }, { eventId: event.event_id });
  const req = await prepareAttempt(webhook, { id: prefixedId('msg_test'), body: payload.body, content_type: payload.contentType }, now);
  const result = await deps.client.send(req);
  return {
    request: req,
    sent_at: formatRome(now),
    duration_ms: result.durationMs,
    ...(result.kind === 'response'
      ? { ok: result.ok, status_code: result.statusCode, response_headers: result.headers, response_body: result.body, response_truncated: result.truncated }
      : { ok: false, error_class: result.errorClass, error_message: result.message }),
  };
}
