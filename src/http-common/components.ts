/**
 * The named schemas of the OpenAPI document (components.schemas): what the API answers with.
 * Each has a `$id`; base.ts adds them all to the root instance, routes point at them with
 * `ref('Name')`, and @fastify/swagger turns those into `#/components/schemas/Name`.
 *
 * They describe, they do not filter: responses are serialised with JSON.stringify (base.ts),
 * so a body is byte for byte what the handler built (the OpenCity representations must stay
 * exact). Our own resources say `additionalProperties: false`, so the contract check of the
 * tests (test/contract.ts) catches a key that leaks out; the OpenCity bodies stay open.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { FORMATS } from '../domain/payload.js';
import { DELIVERY_STATUSES, ORDERINGS } from '../store/index.js';

const Str = Type.String();
const NullStr = Type.Union([Type.String(), Type.Null()]);
const NullInt = Type.Union([Type.Integer(), Type.Null()]);
const Time = Type.String({ description: 'ISO 8601 date-time (UTC)' });
const NullTime = Type.Union([Time, Type.Null()]);
const closed = (id: string, props: Record<string, TSchema>, description?: string) =>
  Type.Object(props, { $id: id, additionalProperties: false, ...(description ? { description } : {}) });

export const Problem = Type.Object({
  type: Type.String({ description: 'urn:messo:problem:<code>' }),
  title: Str,
  status: Type.Integer(),
  detail: Str,
  field: Type.Optional(Type.String({ description: 'the field at fault' })),
  errors: Type.Optional(Type.Array(Type.Object({ field: Str, message: Str }, { additionalProperties: false }))),
  request_id: Str,
}, { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details; some problems add keys (from, allowed…)' });

export const Tenant = closed('Tenant', {
  id: Str, name: Str, slug: Str, external_id: NullStr, created_at: Time, updated_at: Time,
});

export const ApiKey = closed('ApiKey', {
  id: Str, name: Str, prefix: Str, created_at: Time, revoked_at: NullTime, last_used_at: NullTime,
  key: Type.Optional(Type.String({ description: 'the secret key; shown only once, at creation' })),
});

export const Me = Type.Union([
  Type.Object({ kind: Type.Literal('admin') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('tenant'), key_id: Str, tenant: Type.Ref('Tenant') }, { additionalProperties: false }),
], { $id: 'Me', description: 'the admin token, or a tenant key and its tenant' });

export const Service = closed('Service', {
  id: Str, slug: Str, name: Str, group_name: NullStr, description: NullStr, status: Str, created_at: Time, updated_at: Time,
});

export const Application = Type.Object({
  id: Str,
  service_id: Str,
  status: Type.String({ description: 'status code as a string, e.g. "2000"' }),
  status_name: Str,
  service_name: Type.Optional(NullStr),
  subject: Type.Optional(NullStr),
  user_name: Type.Optional(NullStr),
  created_at: Type.Optional(NullStr),
  latest_status_change_at: Type.Optional(NullStr),
}, { $id: 'Application', additionalProperties: true, description: 'the OpenCity application JSON at the requested version (byte-exact to the core)' });

export const Message = Type.Object({
  id: Str, message: NullStr, subject: NullStr, author: NullStr, application: NullStr, visibility: NullStr, email: NullStr,
  created_at: NullStr, sent_at: NullStr, read_at: NullStr, clicked_at: NullStr, attachments: Type.Array(Type.Unknown()),
  protocol_required: Type.Union([Type.Boolean(), Type.Null()]), protocolled_at: NullStr, protocol_number: NullStr,
}, { $id: 'Message', additionalProperties: true, description: "the core's message JSON (15 keys; dates as Rome date-times)" });

export const HistoryItem = closed('HistoryItem', {
  event_id: Str, type: Str, from: NullInt, to: NullInt, status_name: NullStr, message: NullStr, at: Str,
});

const StatusRef = Type.Object({ status: Type.Integer(), status_name: Str }, { additionalProperties: false });
export const Transitions = closed('Transitions', {
  status: Type.Integer(), status_name: Str, allowed: Type.Array(StatusRef),
});

export const Event = closed('Event', {
  seq: Type.Integer(), event_id: Str, type: Str, tenant_id: Str, subject: NullStr, event_version: Type.Integer(),
  event_created_at: Str, app_id: Str, data: Type.Object({}, { additionalProperties: true }), recorded_at: Time,
});

/** POST /api/events without `Prefer: return=representation` (issue 13: a small 201). */
export const EventAck = closed('EventAck', { event_id: Str, seq: Type.Integer(), type: Str });
/** What POST /api/events answers: the acknowledgement, or with the Prefer header the whole event. */
export const EventIngested = Type.Union([Type.Ref('EventAck'), Type.Ref('Event')], { $id: 'EventIngested' });

export const EventBatchResult = closed('EventBatchResult', {
  created: Type.Integer(), duplicates: Type.Integer(),
  results: Type.Array(Type.Object({ event_id: Str, type: Str, seq: Type.Integer(), created: Type.Boolean() }, { additionalProperties: false })),
});

export const OpenCityIngestResult = Type.Object({
  result: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('skipped'), Type.Literal('rejected')]),
  event_id: Type.Union([Type.String(), Type.Null()], { description: "the core's event_id (the bridge: the id messo gave the event)" }),
  type: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Optional(Type.String({ description: 'why it was kept as ingest.rejected instead of applied' })),
  recorded_id: Type.Optional(Type.String({ description: 'the ingest.rejected event' })),
}, { $id: 'OpenCityIngestResult', additionalProperties: false });

export const Webhook = closed('Webhook', {
  id: Str, title: Str, description: NullStr, endpoint: Str, method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')]),
  trigger: NullStr, events: Type.Array(Str), filters: Type.Union([Type.Literal('all'), Type.Array(Str)]), headers: Type.Record(Str, Str),
  version: Type.Union([Type.Literal('1.0'), Type.Literal('2.0')]), active: Type.Boolean(),
  format: Type.Union(FORMATS.map((f) => Type.Literal(f))), ordering: Type.Union(ORDERINGS.map((o) => Type.Literal(o))),
  max_concurrency: NullInt, rate_limit: Type.Union([Type.Number(), Type.Null()]),
  follow_redirects: Type.Boolean({ description: 'follow up to 5 redirects, each hop checked by the SSRF guard' }),
  disabled_reason: NullStr, disabled_at: NullTime, previous_secret_expires_at: NullTime,
  unknown_services: Type.Array(Str, { description: 'services in filters this tenant has not published yet; kept, they match once the service exists' }),
  created_at: Time, updated_at: Time,
  health: Type.Optional(Type.Object({
    state: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('disabled')]),
    failing_since: NullTime, failures: Type.Integer({ description: 'failed attempts since failing_since' }),
    disabled_reason: NullStr, disabled_at: NullTime,
    skipped_events: Type.Integer({ description: 'events that matched while it was disabled and were not delivered' }),
  }, { additionalProperties: false, description: 'in lists and on GET: failing since when with how many failures, or why disabled' })),
  secret: Type.Optional(Type.String({ description: 'whsec_…; shown only at creation and rotation' })),
});

const deliveryProps = {
  id: Str, webhook_id: Str, event_id: Str, event_type: Str, application_id: NullStr,
  status: Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(), next_attempt_at: NullTime, last_status_code: NullInt, last_error: NullStr,
  created_at: Time, updated_at: Time, completed_at: NullTime,
  attempt_offset: Type.Integer({ description: 'attempts before the last manual resend: the next attempt is attempt_offset + attempts + 1' }),
  manual_attempts: Type.Array(Type.Integer(), { description: 'attempt numbers that began a manual resend' }),
  application: Type.Optional(Type.Union([Type.Object({ subject: NullStr, applicant: NullStr }, { additionalProperties: false }), Type.Null()], { description: "in lists: the pratica's subject and applicant" })),
};
export const Delivery = closed('Delivery', deliveryProps);

/** POST /api/deliveries/bulk. */
export const BulkResult = closed('BulkResult', {
  action: Type.Union([Type.Literal('retry_now'), Type.Literal('resend')]), dry_run: Type.Boolean(), count: Type.Integer(),
});

/** POST /api/webhooks/{id}/test with schedule. */
export const ScheduledTest = closed('ScheduledTest', { delivery_id: Str, event_id: Str });

/** POST /api/webhooks/{id}/enable. */
export const WebhookEnabled = closed('WebhookEnabled', {
  webhook: Type.Ref('Webhook'),
  recovery: Type.Union([Type.Object({
    created: Type.Integer({ description: 'deliveries created for skipped events' }),
    resent: Type.Integer({ description: 'deliveries its disabling failed, sent again' }),
    remaining: Type.Integer({ description: 'skipped events left for another call (5,000 per call)' }),
  }, { additionalProperties: false }), Type.Null()]),
});

const HeaderValues = Type.Record(Str, Type.Union([Str, Type.Array(Str)]));
export const Attempt = closed('Attempt', {
  attempt: Type.Integer(), manual: Type.Boolean({ description: 'the first attempt of a manual resend' }), started_at: Time, duration_ms: Type.Number(), url: Str,
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]), status_code: NullInt,
  response_headers: Type.Union([HeaderValues, Type.Null()]), response_body: NullStr, response_truncated: Type.Boolean(),
  error_class: NullStr, error_message: NullStr, next_attempt_at: NullTime,
});

export const DeliveryDetail = closed('DeliveryDetail', {
  ...deliveryProps, content_type: Str, body: Str, payload: Type.Unknown({ description: 'the body parsed, or null when not JSON' }),
  attempt_log: Type.Array(Type.Ref('Attempt')),
});

export const MinuteBucket = closed('MinuteBucket', { minute: Time, success: Type.Integer(), failure: Type.Integer() });

export const WebhookHealth = closed('WebhookHealth', {
  webhook_id: Str, active: Type.Boolean(), disabled_reason: NullStr, disabled_at: NullTime, failing_since: NullTime,
  last_24h: Type.Object({
    deliveries: Type.Object({ succeeded: Type.Integer(), failed: Type.Integer(), success_rate: Type.Union([Type.Number(), Type.Null()]) }, {
      additionalProperties: false, description: 'deliveries finished, each counted once',
    }),
    attempts: Type.Integer(), successes: Type.Integer(), failures: Type.Integer(), success_rate: Type.Union([Type.Number(), Type.Null()]),
    latency_ms: Type.Object({ p50: Type.Union([Type.Number(), Type.Null()]), p95: Type.Union([Type.Number(), Type.Null()]), p99: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false }),
  }, { additionalProperties: false }),
  last_error: Type.Union([Type.Object({ at: Time, error: Str }, { additionalProperties: false }), Type.Null()]),
  per_minute: Type.Array(Type.Ref('MinuteBucket')),
});

export const WebhookTestResult = closed('WebhookTestResult', {
  request: Type.Object({ url: Str, method: Str, headers: Type.Record(Str, Str), body: Str }, { additionalProperties: false }),
  sent_at: Str, duration_ms: Type.Number(), ok: Type.Boolean(),
  status_code: Type.Optional(Type.Integer()), response_headers: Type.Optional(HeaderValues), response_body: Type.Optional(Str),
  response_truncated: Type.Optional(Type.Boolean()), error_class: Type.Optional(Str), error_message: Type.Optional(Str),
});

export const IngestToken = closed('IngestToken', {
  id: Str, name: Str, prefix: Type.String({ description: 'first characters of the token, as logs show it' }),
  created_at: Time, revoked_at: NullTime, last_used_at: NullTime,
  token: Type.Optional(Type.String({ description: 'the secret; shown only once, at creation' })),
  kafka_url: Type.Optional(Type.String({ description: "what to set as the core's KAFKA_URL; shown only once" })),
  webhook_url: Type.Optional(Type.String({ description: 'the endpoint of a core webhook (trigger all, version 1.0) for the bridge; shown only once' })),
});

export const BinStep = closed('BinStep', {
  status: Type.Integer(), headers: Type.Optional(Type.Record(Str, Str)), body: Type.Optional(Str),
  delay_ms: Type.Optional(Type.Integer()), times: Type.Optional(Type.Integer()),
});

export const Bin = closed('Bin', {
  id: Str, url: Str, name: NullStr, anonymous: Type.Boolean(), has_secret: Type.Boolean(), responses: Type.Array(Type.Ref('BinStep')),
  hits: Type.Integer(), max_requests: Type.Integer(), request_count: Type.Integer(), created_at: Time, expires_at: Time,
});

const NameValue = Type.Object({ name: Str, value: Str }, { additionalProperties: false });
export const Capture = closed('Capture', {
  id: Str, seq: Type.Integer(), bin_id: Str, method: Str, url: Str, path: Str, query: Str, query_params: Type.Array(NameValue),
  http_version: Str, headers: Type.Array(NameValue), content_type: NullStr, size: Type.Integer(), body: Str,
  body_encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]), body_truncated: Type.Boolean(), client_ip: Str,
  received_at: Time, response_status: NullInt,
  signature: Type.Union([Type.Ref('Verdict'), Type.Null()], { description: 'Standard Webhooks verdict; null when the bin has no secret' }),
});

export const Verdict = Type.Union([
  Type.Object({ valid: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ valid: Type.Literal(false), reason: Str, detail: Str }, { additionalProperties: false }),
], { $id: 'Verdict' });

export const ReplayResult = closed('ReplayResult', {
  ok: Type.Boolean(), url: Str, method: Str, status_code: Type.Optional(Type.Integer()), headers: Type.Optional(HeaderValues),
  body: Type.Optional(Str), body_truncated: Type.Optional(Type.Boolean()), error_class: Type.Optional(Str), error: Type.Optional(Str),
  duration_ms: Type.Number(),
});

export const Status = closed('Status', { status: Str });
export const Deleted = closed('Deleted', { deleted: Type.Integer({ description: 'how many were deleted' }) });
export const Recovered = closed('Recovered', { recovered: Type.Integer({ description: 'failed deliveries scheduled again' }) });
export const BinExport = Type.Object({}, { $id: 'BinExport', additionalProperties: true, description: 'the bin and every capture in full (format=json), or a HAR 1.2 log (format=har)' });

/** A page of a listing: `next_cursor` is null on the last page. */
const page = (item: string) => closed(`${item}Page`, { items: Type.Array(Type.Ref(item)), next_cursor: NullStr });
/** A listing answered whole. */
const list = (item: string) => closed(`${item}List`, { items: Type.Array(Type.Ref(item)) });

export const COMPONENTS: TSchema[] = [
  EventAck, EventIngested, WebhookEnabled, BulkResult, ScheduledTest,
  Problem, Tenant, ApiKey, Me, Service, Application, Message, HistoryItem, Transitions, Event, EventBatchResult,
  OpenCityIngestResult, Webhook, Delivery, Attempt, DeliveryDetail, MinuteBucket, WebhookHealth, WebhookTestResult,
  IngestToken, BinStep, Bin, Verdict, Capture, ReplayResult, Status, Deleted, Recovered, BinExport,
  page('Tenant'), page('Service'), page('Application'), page('Message'), page('Event'), page('Webhook'), page('Delivery'),
  page('Bin'), page('Capture'), list('ApiKey'), list('IngestToken'), list('HistoryItem'), list('MinuteBucket'),
];

const NAMES = new Set(COMPONENTS.map((c) => c.$id));

/** A reference to a named component, for a route's response schema. */
export function ref(name: string): TSchema {
  if (!NAMES.has(name)) throw new Error(`no component schema named ${name}`);
  return Type.Ref(name);
}
