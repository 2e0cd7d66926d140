/**
 * Application statuses and the transition table of the OpenCity platform (see DESIGN.md).
 * The numeric codes are the platform's own: receivers already written for it switch on them.
 */
export const STATUS = {
  1000: 'status_draft',
  1500: 'status_payment_pending',
  1510: 'status_payment_outcome_pending',
  1520: 'status_payment_success',
  1530: 'status_payment_error',
  1900: 'status_pre_submit',
  2000: 'status_submitted',
  3000: 'status_registered',
  4000: 'status_pending',
  4100: 'status_request_integration',
  4200: 'status_draft_for_integration',
  4300: 'status_submitted_after_integration',
  4400: 'status_registered_after_integration',
  4500: 'status_pending_after_integration',
  5000: 'status_processing',
  6000: 'status_complete_waitallegatioperatore',
  7000: 'status_complete',
  8000: 'status_cancelled_waitallegatioperatore',
  9000: 'status_cancelled',
  20000: 'status_withdraw',
  50000: 'status_revoked',
} as const;

export type StatusCode = keyof typeof STATUS;
export const STATUS_CODES = Object.keys(STATUS).map(Number) as StatusCode[];

export function isStatusCode(value: unknown): value is StatusCode {
  return typeof value === 'number' && Object.prototype.hasOwnProperty.call(STATUS, value);
}

export function statusName(code: number): string | null {
  return isStatusCode(code) ? STATUS[code] : null;
}

/** from → allowed targets. A move to the same status is always allowed (a recorded no-op). */
export const TRANSITIONS: Readonly<Record<number, readonly StatusCode[]>> = {
  1000: [1900, 1500],
  1500: [1510, 1520, 1530],
  1510: [1520, 1530],
  1520: [1900],
  1900: [2000],
  2000: [3000, 4000, 20000],
  3000: [4000, 20000],
  4000: [4000, 4100, 7000, 9000, 6000, 8000, 20000],
  4100: [4200, 20000],
  4200: [4300, 20000],
  4300: [4400, 4500, 4000],
  4400: [4500, 20000],
  4500: [4000, 4100, 7000, 9000, 6000, 8000],
  6000: [7000],
  8000: [9000],
  9000: [9000, 4000],
  7000: [4000],
  20000: [4000],
};

export function canTransition(from: number, to: number): boolean {
  if (!isStatusCode(to)) return false;
  if (from === to) return true;
  return (TRANSITIONS[from] ?? []).includes(to);
}

/** Targets an operator may choose from `from`, same-status moves excluded unless listed. */
export function allowedTargets(from: number): StatusCode[] {
  return [...(TRANSITIONS[from] ?? [])];
}

/** Statuses an application may be created in through the API. */
export const CREATABLE_STATUSES: readonly StatusCode[] = [1000, 1900, 2000];
