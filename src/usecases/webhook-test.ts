/**
 * "Test" a webhook, as the back office's button does: send a pratica (or a sample) at once and
 * show what the receiver answered. It goes through the same prepare stage and guarded client as
 * a delivery, so what is tested is what will be sent; nothing is stored. Or, scheduled, as a
 * real delivery that the dispatcher retries on the schedule.
 */
import { formatRome } from '../domain/dates.js';
import { EVENT_TYPES, MESSO_APP_ID, TEST_EVENT_TYPE } from '../domain/events.js';
import { prefixedId, uuid } from '../domain/ids.js';
import { renderPayload } from '../domain/payload.js';
import { sampleApplication } from '../domain/sample.js';
import { prepareAttempt, type PreparedRequest } from '../delivery/prepare.js';
import type { Config } from '../config.js';
import type { DeliveryClient } from '../outbound/client.js';
import type { Store, Webhook } from '../store/index.js';
import type { WorkSignal } from '../runtime.js';
import { InputError } from './errors.js';

export interface WebhookTestResult {
  /** What was sent; how many hops it may follow is the webhook's setting, not part of the request. */
  request: Omit<PreparedRequest, 'maxRedirects'>;
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

/** The pratica a test sends (or a sample) as a status change, and its body for this webhook. */
async function testEvent(
  store: Pick<Store, 'getApplication'>, typePrefix: string, tenantId: string, webhook: Webhook, applicationId: string | undefined, now: number,
) {
  let doc;
  if (applicationId) {
    const row = await store.getApplication(tenantId, applicationId);
    if (!row) throw new InputError('application_id', 'no such application for this tenant');
    doc = row.doc;
  } else {
    doc = sampleApplication(tenantId, now);
  }
  const event = {
    event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: tenantId, subject: doc.id, event_version: 1,
    event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc, from: doc.status, to: doc.status, message: null },
  };
  const payload = renderPayload(event, { format: webhook.format, version: webhook.version, typePrefix }, { eventId: event.event_id });
  return { event, payload };
}

export async function testWebhook(
  deps: { store: Pick<Store, 'getApplication'>; client: DeliveryClient; config: Pick<Config, 'cloudEventsTypePrefix'> },
  tenantId: string, webhook: Webhook, applicationId?: string,
): Promise<WebhookTestResult> {
  const now = Date.now();
  const { payload } = await testEvent(deps.store, deps.config.cloudEventsTypePrefix, tenantId, webhook, applicationId, now);
  const req = await prepareAttempt(webhook, { id: prefixedId('msg_test'), body: payload.body, content_type: payload.contentType }, now);
  const result = await deps.client.send(req);
  const { maxRedirects: _hops, ...sent } = req;
  return {
    request: sent,
    sent_at: formatRome(now),
    duration_ms: result.durationMs,
    ...(result.kind === 'response'
      ? { ok: result.ok, status_code: result.statusCode, response_headers: result.headers, response_body: result.body, response_truncated: result.truncated }
      : { ok: false, error_class: result.errorClass, error_message: result.message }),
  };
}

/**
 * A test that follows the retry schedule: a real delivery to this webhook only, sent by the
 * dispatcher and retried like any other, so scripted failures show the retry path without a
 * pratica. Logged as a webhook.test event; the body is the immediate test's.
 */
export async function scheduleWebhookTest(
  deps: { store: Pick<Store, 'getApplication' | 'createTestDelivery'>; work: WorkSignal; config: Pick<Config, 'cloudEventsTypePrefix'> },
  tenantId: string, webhook: Webhook, applicationId?: string,
): Promise<{ delivery_id: string; event_id: string }> {
  const now = Date.now();
  const { event, payload } = await testEvent(deps.store, deps.config.cloudEventsTypePrefix, tenantId, webhook, applicationId, now);
  const logged = { ...event, type: TEST_EVENT_TYPE, data: { ...event.data, webhook_id: webhook.id } };
  const id = await deps.store.createTestDelivery(webhook, logged, payload);
  deps.work.notify();
  return { delivery_id: id, event_id: event.event_id };
}
