/**
 * What the dispatcher exchanges with the store: the options of a claim, a claimed delivery with
 * its webhook, and the outcome of an attempt.
 */
import type { Delivery, Webhook } from './types.js';

export interface ClaimOptions {
  owner: string;
  limit: number;
  now: number;
  leaseMs: number;
  /** Endpoints this dispatcher has enough of queued already. */
  skipEndpoints?: string[];
  /** Most deliveries to take for one endpoint in this claim. */
  perEndpoint?: number;
  /**
   * Most endpoints to take over in this claim besides those this owner serves already, so
   * that dispatchers woken together share the endpoints instead of the first taking them all.
   */
  newEndpoints?: number;
}

export interface ClaimedDelivery {
  delivery: Delivery;
  webhook: Webhook;
  /** Send no earlier than this (a rate-limit slot); usually `now`. */
  notBefore: number;
}

export interface AttemptOutcome {
  deliveryId: string;
  owner: string;
  webhookId: string;
  endpointKey: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  url: string;
  /** success: 2xx; retry: failed, will try again at nextAttemptAt; failed: terminal. */
  result: 'success' | 'retry' | 'failed';
  nextAttemptAt: number | null;
  statusCode: number | null;
  responseHeaders: Record<string, string | string[]> | null;
  responseBody: string | null;
  truncated: boolean;
  errorClass: string | null;
  errorMessage: string | null;
  /** Slow the whole endpoint down until then (429/502/503/504). */
  endpointBlockedUntil: number | null;
}
