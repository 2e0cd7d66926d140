/** The shapes the API answers with (see /openapi.json), as far as the dashboard reads them. */
export interface Webhook {
  id: string;
  title: string;
  description: string | null;
  endpoint: string;
  method: 'POST' | 'PUT';
  trigger: string | null;
  events: string[];
  filters: 'all' | string[];
  headers: Record<string, string>;
  version: 1 | 2;
  active: boolean;
  format: 'opencity' | 'standard' | 'cloudevents';
  ordering: 'none' | 'per_application';
  max_concurrency: number | null;
  rate_limit: number | null;
  disabled_reason: string | null;
  disabled_at: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}

export interface Health {
  webhook_id: string;
  active: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  last_24h: { attempts: number; successes: number; failures: number; success_rate: number | null; latency_ms: { p50: number | null; p95: number | null; p99: number | null } };
  last_error: { at: string; error: string } | null;
  per_minute: { minute: string; success: number; failure: number }[];
}

export interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  application_id: string | null;
  status: 'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface Attempt {
  attempt: number;
  started_at: string;
  duration_ms: number;
  url: string;
  outcome: 'success' | 'failure';
  status_code: number | null;
  response_headers: Record<string, string | string[]> | null;
  response_body: string | null;
  response_truncated: boolean;
  error_class: string | null;
  error_message: string | null;
  next_attempt_at: string | null;
}

export interface DeliveryDetail extends Delivery {
  content_type: string;
  body: string;
  payload: unknown;
  attempt_log: Attempt[];
}

export interface EventRecord {
  seq: number;
  event_id: string;
  type: string;
  tenant_id: string;
  subject: string | null;
  event_version: number;
  event_created_at: string;
  app_id: string;
  data: Record<string, unknown>;
  recorded_at: string;
}

export interface Application {
  id: string;
  service_id: string;
  service_name: string | null;
  subject: string | null;
  user_name: string | null;
  status: number;
  status_name: string;
  creation_time?: number;
  created_at: string | null;
  latest_status_change_at: string | null;
  [k: string]: unknown;
}

export interface Service {
  id: string;
  slug: string;
  name: string;
  status: string;
}

export interface Bin {
  id: string;
  url: string;
  name: string | null;
  has_secret: boolean;
  responses: Step[];
  hits: number;
  max_requests: number;
  request_count: number;
  created_at: string;
  expires_at: string;
}

export interface Step {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delay_ms?: number;
  times?: number;
}

export type Verdict = { valid: true; [k: string]: unknown } | { valid: false; reason: string; detail: string };

export interface Capture {
  id: string;
  seq: number;
  bin_id: string;
  method: string;
  url: string;
  path: string;
  query: string;
  query_params: { name: string; value: string }[];
  http_version: string;
  headers: { name: string; value: string }[];
  content_type: string | null;
  size: number;
  body: string;
  body_encoding: 'utf8' | 'base64';
  body_truncated: boolean;
  client_ip: string;
  received_at: string;
  response_status: number | null;
  signature: Verdict | null;
}

/** Event types a webhook may subscribe to by name (wildcards such as application.* too): the server's list. */
export { SUBSCRIBABLE_EVENT_TYPES as EVENT_TYPES, STATUS_CODES } from './domain.js';
