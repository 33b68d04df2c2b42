/**
 * Errors: expected outcomes are values (Result, ingest decisions); unexpected ones throw AppError.
 * Check errors by `code`, never by `instanceof` (errors cross worker threads and module copies).
 */

/** Every error code the product can answer with, and the HTTP status it maps to. One table, one place. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  mfa_required: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
  config_invalid: 500,
  missing_secret: 500,
  store_locked: 500,
  store_error: 500,
  /** A differentially private report would exceed the shop's privacy budget. */
  privacy_budget_exhausted: 403,
  /** A request carried a full card number (Luhn-valid 13–19 digits); Candor never accepts one. */
  card_number_present: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type AppErrorOptions = {
  cause?: unknown;
  /** Extra fields safe to show the caller (never personal data). */
  details?: Record<string, unknown>;
  /** Seconds, sent as Retry-After on 429/503. */
  retryAfter?: number;
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }
}

export function isAppError(e: unknown): e is AppError {
  if (typeof e !== 'object' || e === null) return false;
  const { code, name } = e as { code?: unknown; name?: unknown };
  return name === 'AppError' && typeof code === 'string' && code in ERROR_STATUS;
}

export function hasCode(e: unknown, code: ErrorCode): boolean {
  return isAppError(e) && e.code === code;
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** The one JSON shape every error response has. */
export type ErrorBody = {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
};

export function errorBody(e: AppError, requestId: string): ErrorBody {
  const body: ErrorBody = { error: { code: e.code, message: e.message, requestId } };
  if (e.details !== undefined) body.error.details = e.details;
  return body;
}
