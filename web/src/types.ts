/**
 * The shapes the API answers with, as the dashboard reads them: names for the schemas of the
 * OpenAPI document, whose types `npm run gen:api-types` generates into api-types.ts. Nothing
 * here is written by hand, so a change of the API is a type error here, not a blank page.
 */
import type { components } from './api-types.js';

type Schemas = components['schemas'];

export type Webhook = Schemas['Webhook'];
export type Health = Schemas['WebhookHealth'];
/** In lists and on GET: failing since when with how many failures, or why disabled and what it missed. */
export type WebhookHealth = NonNullable<Webhook['health']>;
export type BulkResult = Schemas['BulkResult'];
export type WebhookEnabled = Schemas['WebhookEnabled'];
export type Delivery = Schemas['Delivery'];
export type Attempt = Schemas['Attempt'];
export type DeliveryDetail = Schemas['DeliveryDetail'];
export type EventRecord = Schemas['Event'];
/** The OpenCity application JSON; `status` is the code as a string ("2000"), as the core sends it. */
export type Application = Schemas['Application'];
export type Service = Schemas['Service'];
export type Bin = Schemas['Bin'];
export type Step = Schemas['BinStep'];
export type Verdict = Schemas['Verdict'];
export type Capture = Schemas['Capture'];
export type Transitions = Schemas['Transitions'];
export type Tenant = Schemas['Tenant'];
export type ApiKey = Schemas['ApiKey'];
export type Me = Schemas['Me'];
export type Problem = Schemas['Problem'];
export type HistoryItem = Schemas['HistoryItem'];
export type Message = Schemas['Message'];
export type MinuteBucket = Schemas['MinuteBucket'];
export type WebhookTestResult = Schemas['WebhookTestResult'];
export type ReplayResult = Schemas['ReplayResult'];
export type Recovered = Schemas['Recovered'];

/** Event types a webhook may subscribe to by name (wildcards such as application.* too): the server's list. */
export { SUBSCRIBABLE_EVENT_TYPES as EVENT_TYPES, STATUS_CODES } from './domain.js';
