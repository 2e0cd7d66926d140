/**
 * When to try a delivery again. Pure: the clock and the random source come from the caller.
 *
 * A schedule is a list of waits in seconds: entry i is the wait before attempt i+1, so entry 0
 * (normally 0) is the first attempt and the list's length is the maximum number of attempts.
 * After the last entry the delivery fails for good — an explicit terminal state, unlike the
 * platform we replace, whose jobs stayed pending forever.
 */

/**
 * Attempt 1 at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ten attempts
 * spread over ~3.1 days (sum 272 105 s), the span the Standard Webhooks guidance asks for and the
 * same shape as Svix's schedule. The early short steps absorb a receiver restart; the long tail
 * covers a weekend-long outage of a municipal back office.
 */
export const DEFAULT_RETRY_SCHEDULE_SEC: readonly number[] = Object.freeze([
  0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
]);

/**
 * ±20 %: enough to spread the retries of many deliveries that failed together (one receiver
 * down, hundreds of events queued) so they do not all land in the same second when it comes back.
 */
export const DEFAULT_JITTER = 0.2;

export interface NextDelayOptions {
  /** Fraction of the step, 0..1: the delay is uniform in step × [1 − jitter, 1 + jitter). */
  jitter?: number;
  /** Uniform in [0, 1); injectable for tests. Defaults to Math.random. */
  random?: () => number;
  /** The receiver's Retry-After, already converted to ms (see parseRetryAfter). */
  retryAfterMs?: number | null;
}

/**
 * Parses `MESSO_RETRY_SCHEDULE`-style text: comma-separated non-negative seconds,
 * e.g. "0, 5, 300" (fractions such as 0.5 are allowed: short schedules make retries testable). Throws with a message that names the bad entry, because it runs at boot
 * and the message is what the operator reads.
 */
export function parseRetrySchedule(text: string): number[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new Error('retry schedule is empty: expected comma-separated seconds such as "0,5,300"');
  }
  return text.split(',').map((raw, index) => {
    const entry = raw.trim();
    if (!/^\d+(\.\d+)?$/.test(entry)) {
      throw new Error(
        `retry schedule entry ${index + 1} ("${entry}") is not a non-negative number of seconds`,
      );
    }
    const value = Number(entry);
    if (!Number.isFinite(value) || value > 366 * 24 * 3600) {
      throw new Error(`retry schedule entry ${index + 1} ("${entry}") is too large`);
    }
    return value;
  });
}

/**
 * The wait in ms before the next attempt, or null when the schedule is exhausted (terminal
 * failure). `attemptsMade` counts attempts already made, so 0 asks for the first attempt.
 *
 * Retry-After honoured, clamped to the schedule:
 *   delay = max(jittered step, min(retryAfter, largest step of the schedule))
 * - A Retry-After can make us wait longer than the schedule, never shorter: a receiver saying
 *   "retry in 1 s" while it is failing must not turn our backoff into a tight loop.
 * - It is capped at the schedule's largest step, so a hostile or buggy "Retry-After: 31536000"
 *   cannot park a delivery for a year; the attempt budget still ends the delivery on time.
 * - It never adds attempts: once the schedule is exhausted the answer is null regardless.
 */
export function nextAttemptDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  opts: NextDelayOptions = {},
): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new RangeError(`attemptsMade must be a non-negative integer, got ${attemptsMade}`);
  }
  const jitter = opts.jitter ?? DEFAULT_JITTER;
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`jitter must be between 0 and 1, got ${jitter}`);
  }
  if (attemptsMade >= schedule.length) return null;

  const random = opts.random ?? Math.random;
  const stepMs = schedule[attemptsMade] * 1000;
  const jittered = Math.round(stepMs * (1 + jitter * (2 * random() - 1)));

  const retryAfter = opts.retryAfterMs;
  if (retryAfter == null || !Number.isFinite(retryAfter) || retryAfter <= 0) return jittered;
  const largestStepMs = Math.max(...schedule) * 1000;
  return Math.max(jittered, Math.min(Math.round(retryAfter), largestStepMs));
}

/** The three date forms RFC 9110 §5.6.7 tells recipients to accept. */
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * `Retry-After` in ms from now: delta-seconds ("120") or an HTTP-date. Returns null for
 * anything else (the header is then ignored, not an error). A date in the past gives 0.
 *
 * Why the regexes instead of Date.parse alone: Date.parse accepts nearly anything ("2024" is
 * a date to it) and reads the asctime form, which has no zone, as local time; RFC 9110 says
 * it is GMT.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : null;
  }
  let dateMs: number;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) dateMs = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) dateMs = Date.parse(`${text} GMT`);
  else return null;
  if (Number.isNaN(dateMs)) return null;
  return Math.max(0, dateMs - nowMs);
}
