/**
 * Every error a client can see: a stable code, its HTTP status and a human message. Clients match on `code`;
 * messages may be reworded. Add new errors here, never inline.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, message: 'A field is missing or invalid.' },
  MALFORMED_BODY: { status: 400, message: 'The request body could not be parsed.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'This content type is not accepted here.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such endpoint.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },

  UNAUTHENTICATED: { status: 401, message: 'Sign in first.' },
  TOKEN_INVALID: { status: 401, message: 'The sign-in token is invalid or expired.' },
  FORBIDDEN: { status: 403, message: 'Your role may not do this.' },
  CASE_TOKEN_INVALID: {
    status: 401,
    message: 'This case is not open here, or no longer: look it up again by plate and ruling number.',
  },
  OTP_INVALID: { status: 401, message: 'The code is wrong or has expired.' },
  OTP_ATTEMPTS_EXCEEDED: { status: 429, message: 'Too many wrong codes; request a new one.' },
  OTP_TOO_SOON: { status: 429, message: 'A code was sent moments ago; wait before asking again.' },
  OTP_LIMIT_REACHED: { status: 429, message: 'Too many codes sent to this phone; try again later.' },
  LOGIN_INVALID: { status: 401, message: 'Wrong login or password.' },
  TOKEN_EXPIRED: { status: 401, message: 'The sign-in token has expired; refresh it or sign in again.' },
  SESSION_REVOKED: {
    status: 401,
    message: 'This sign-in has ended (signed out, revoked, or the account changed); sign in again.',
  },
  REFRESH_INVALID: { status: 401, message: 'The refresh token is unknown or expired; sign in again.' },
  REFRESH_REUSED: {
    status: 401,
    message: 'This refresh token was already used; the session has been ended for safety. Sign in again.',
  },
  SESSION_NOT_FOUND: { status: 404, message: 'You have no such session.' },
  SIGN_IN_LOCKED: {
    status: 429,
    message: 'Too many failed sign-ins for this login; wait before trying again, or ask an administrator.',
  },
  CHALLENGE_INVALID: { status: 401, message: 'The sign-in step has expired or is not valid; sign in again.' },
  TOTP_INVALID: { status: 401, message: 'The authenticator code is wrong, expired or already used.' },
  RECOVERY_CODE_INVALID: { status: 401, message: 'The recovery code is wrong or already used.' },
  TOTP_ALREADY_ENROLLED: { status: 409, message: 'Two-factor sign-in is already set up for this account.' },
  TOTP_NOT_STARTED: { status: 409, message: 'Start the two-factor set-up first.' },
  TOTP_REQUIRED: { status: 403, message: 'Your role must use two-factor sign-in; it cannot be turned off.' },
  PASSWORD_WEAK: {
    status: 422,
    message: 'Choose a longer or less common password (at least 12 characters, not a well-known one).',
  },
  PASSWORD_WRONG: { status: 401, message: 'The current password is wrong.' },
  LINK_INVALID: { status: 404, message: 'This link is not valid; ask an administrator for a new one.' },
  LINK_EXPIRED: { status: 410, message: 'This link has expired; ask an administrator for a new one.' },
  LINK_USED: { status: 410, message: 'This link was already used; ask an administrator for a new one.' },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'No staff account has this id or login.' },
  LOGIN_TAKEN: { status: 409, message: 'Another staff account already has this login.' },
  LAST_ADMIN: { status: 409, message: 'This is the last active administrator; add another one first.' },
  UNIT_NOT_FOUND: { status: 422, message: 'No police unit has this id.' },
  UNIT_NAME_TAKEN: { status: 409, message: 'Another police unit already has this name.' },
  DISTRICT_NOT_FOUND: { status: 422, message: 'A district id is unknown.' },
  DISTRICT_TAKEN: { status: 409, message: 'A district is already covered by another police unit.' },
  OUTSIDE_UNIT: { status: 403, message: 'This report belongs to another police unit.' },
  SMS_UNAVAILABLE: { status: 503, message: 'The SMS gateway is unavailable; try again shortly.' },

  EVIDENCE_FILE_MISSING: {
    status: 400,
    message: 'Attach the evidence as a multipart file field named "file".',
  },
  EVIDENCE_TOO_LARGE: { status: 413, message: 'The evidence file is larger than allowed.' },
  EVIDENCE_EMPTY: { status: 400, message: 'The evidence file is empty.' },
  UPLOAD_NOT_FOUND: { status: 404, message: 'There is no such upload, or it expired; start it again.' },
  UPLOAD_OFFSET_MISMATCH: {
    status: 409,
    message: 'The chunk does not start where the upload stands; continue from the offset given.',
  },
  UPLOAD_TOO_LONG: { status: 400, message: 'The chunk goes past the size declared for the upload.' },
  EVIDENCE_TYPE_UNSUPPORTED: {
    status: 415,
    message: 'Evidence must be a JPEG or PNG photo or an MP4, MOV or WebM video.',
  },
  EVIDENCE_UNREADABLE: {
    status: 422,
    message: 'The file is not a photo or video that can be read; nothing was stored.',
  },
  EVIDENCE_LIMITS_EXCEEDED: {
    status: 422,
    message:
      'The photo or video is larger than evidence may be (pixels, side, length or streams: see details); nothing was stored.',
  },
  EVIDENCE_CODEC_UNSUPPORTED: {
    status: 415,
    message: 'Videos must be H.264, H.265, VP8, VP9, AV1 or Motion JPEG, with AAC or Opus sound.',
  },
  EVIDENCE_QUOTA_EXCEEDED: {
    status: 429,
    message: 'You have uploaded as much evidence as allowed in 24 hours; try again later.',
  },
  UPLOADS_OPEN_LIMIT: {
    status: 429,
    message: 'You have too many unfinished uploads; finish or cancel one first.',
  },
  EVIDENCE_NOT_FOUND: { status: 422, message: 'An evidence id is unknown or was not uploaded by you.' },

  VIOLATION_TYPE_UNKNOWN: { status: 422, message: 'No violation type has this code.' },
  REPORT_NOT_FOUND: { status: 404, message: 'No such report.' },
  REPORT_NOT_FORWARDED_YET: {
    status: 409,
    message: 'The report is still being forwarded; send the event again shortly.',
  },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: 'This Idempotency-Key was used with a different request.' },

  LEASE_NOT_HELD: {
    status: 409,
    message: 'You do not hold this report: claim it first (its lease may have run out or been reassigned).',
  },
  REVIEW_NOT_OPEN: { status: 409, message: 'This report is not waiting for review.' },
  STAFF_NOT_FOUND: { status: 422, message: 'No active inspector has this id.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested byte range is outside the file.' },
  EVIDENCE_FILE_NOT_FOUND: { status: 404, message: 'This report has no such evidence file or rendering.' },
  REPORT_REVIEW_STARTED: {
    status: 409,
    message: 'An inspector has started reviewing this report: it can no longer be withdrawn or corrected.',
  },
  REPORT_NOT_AWAITING_INFO: { status: 409, message: 'This report is not waiting for more information.' },
  FINE_NOT_FOUND: {
    status: 404,
    message: 'No ruling with this number for this plate. Check both against the ruling.',
  },
  APPEAL_WINDOW_CLOSED: { status: 409, message: 'The time to appeal this ruling has passed.' },
  APPEAL_EXISTS: { status: 409, message: 'This ruling has been appealed already; one appeal per ruling.' },
  APPEAL_NOT_OPEN: { status: 409, message: 'This case has no ruling that can be appealed now.' },
  APPEAL_NOT_FOUND: { status: 404, message: 'No such appeal.' },
  APPEAL_LEASE_NOT_HELD: {
    status: 409,
    message: 'You do not hold this appeal: take it first (its lease may have run out).',
  },
  APPEAL_ATTACHMENT_UNKNOWN: {
    status: 422,
    message: 'An attachment id is unknown or was not uploaded for this case.',
  },

  WEBHOOK_SIGNATURE_INVALID: {
    status: 401,
    message:
      'The callback is not signed with our shared secret, or its timestamp is outside the replay window.',
  },

  PAYOUT_NOT_FOUND: { status: 404, message: 'No payout has this idempotency key.' },
  PAYOUT_NOT_RECORDED_YET: {
    status: 409,
    message: 'The payout’s acceptance is still being recorded; deliver the callback again shortly.',
  },

  DEAD_LETTER_NOT_FOUND: {
    status: 404,
    message: 'No such dead letter (it may have been retried or discarded).',
  },

  OVERLOADED: { status: 503, message: 'The service is busy; this request was set aside. Try again shortly.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable; try again shortly.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    opts: { message?: string; field?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(opts.message ?? ERRORS[code].message, { cause: opts.cause });
    this.name = 'AppError';
    this.status = ERRORS[code].status;
    this.field = opts.field;
    this.details = opts.details;
  }
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
}

/** Turns anything thrown into an Error (graphile-worker's coerceError habit). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
