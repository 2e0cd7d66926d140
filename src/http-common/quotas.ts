/**
 * Rate limits of the HTTP edge (issue 12, item 4), on @fastify/rate-limit's counters (in
 * memory, per process: with several API processes each counts its own):
 *
 * - API requests per credential (API key or admin token): MESSO_API_REQUESTS_PER_MINUTE;
 * - failed authentications per client address: MESSO_AUTH_FAILURES_PER_MINUTE; past it, every
 *   request with a token from that address is refused for the rest of the minute, the right
 *   token too, so guessing learns nothing;
 * - anonymous inspector bins created per client address: MESSO_ANONYMOUS_BINS_PER_HOUR.
 *
 * 0 turns a limit off. Counts that belong to the store (webhooks, bins and captured bytes per
 * tenant, deliveries per batch) are checked where things are created; they answer 429
 * `quota_exceeded`. These answer 429 `rate_limited` with Retry-After.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export interface Limiter {
  /** Counts one against the key; throws 429 (with Retry-After on the reply) past the limit. */
  take(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Throws 429 when the key is already at the limit, counting nothing. */
  check(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** Registers the counters once, at the root; limiters are made from them. */
export async function registerRateLimits(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false });
}

export function limiter(
  app: FastifyInstance,
  opts: { name: string; max: number; windowMs: number; key(request: FastifyRequest): string; what: string },
): Limiter {
  if (opts.max <= 0) return { take: async () => undefined, check: async () => undefined };
  const run = app.createRateLimit({ max: opts.max, timeWindow: opts.windowMs, keyGenerator: (r) => `${opts.name}:${opts.key(r)}` });
  const refuse = (reply: FastifyReply, ttlSeconds: number): never => {
    const wait = Math.max(1, ttlSeconds);
    reply.header('retry-after', String(wait));
    throw new ApiError('rate_limited', `${opts.what}: at most ${opts.max} per ${opts.windowMs >= 3_600_000 ? `${opts.windowMs / 3_600_000} h` : `${opts.windowMs / 60_000} min`}; try again in ${wait} s`);
  };
  return {
    async take(request, reply) {
      const r = await run(request);
      if (!r.isAllowed && r.isExceeded) refuse(reply, r.ttlInSeconds);
    },
    async check(request, reply) {
      const r = await run(request, { increment: false });
      if (!r.isAllowed && r.remaining === 0) refuse(reply, r.ttlInSeconds);
    },
  };
}
