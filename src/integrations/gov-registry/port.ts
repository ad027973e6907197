import { type Static, Type as T } from '@sinclair/typebox';
import type { BreakerState } from '../../platform/resilience/breaker.js';

/**
 * The outbound port to the government fines registry. Adapters: `HttpGovRegistry` (the registry's HTTP API, also
 * pointed at the local simulator in development and tests).
 *
 * The schemas below are the wire format as well as the types: the simulator validates requests with them and the
 * HTTP adapter checks the registry's answers with them, so the two cannot drift apart.
 */

const Uuid = T.String({ format: 'uuid' });
const NullableInt = T.Union([T.Integer({ minimum: 0 }), T.Null()]);

/** A case as forwarded to the registry. Never carries the reporter's identity: the registry has no need of it. */
export const CaseSubmissionSchema = T.Object(
  {
    /** Also the idempotency key: the registry creates at most one case per report. */
    reportId: Uuid,
    violationCode: T.String({ minLength: 1, maxLength: 64 }),
    plate: T.String({ minLength: 2, maxLength: 16 }),
    incidentAt: T.String({ format: 'date-time' }),
    lat: T.Number({ minimum: -90, maximum: 90 }),
    lon: T.Number({ minimum: -180, maximum: 180 }),
    regionId: NullableInt,
    districtId: NullableInt,
    fineBhm: T.Union([T.Number({ minimum: 0 }), T.Null()]),
    fineSum: NullableInt,
    evidence: T.Array(
      T.Object(
        {
          sha256: T.String({ pattern: '^[0-9a-f]{64}$' }),
          kind: T.Union([T.Literal('photo'), T.Literal('video')]),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
  },
  { additionalProperties: false },
);
export type CaseSubmission = Static<typeof CaseSubmissionSchema>;

export const CaseReceiptSchema = T.Object({
  caseNumber: T.String({ minLength: 1 }),
  acceptedAt: T.String({ format: 'date-time' }),
  /** The registry already knew this report id and returned the case it created then. */
  duplicate: T.Boolean(),
});
export type CaseReceipt = Static<typeof CaseReceiptSchema>;

export const CaseStatusSchema = T.Union([
  T.Literal('accepted'),
  T.Literal('fined'),
  T.Literal('paid'),
  // The fine was cancelled on appeal.
  T.Literal('cancelled'),
]);
export type CaseStatus = Static<typeof CaseStatusSchema>;

export const GovCaseSchema = T.Object({
  caseNumber: T.String({ minLength: 1 }),
  status: CaseStatusSchema,
  amountSum: T.Union([T.Integer({ minimum: 0 }), T.Null()]),
});
export type GovCase = Static<typeof GovCaseSchema>;

/** The registry's error body on 4xx/5xx. */
export const RegistryErrorBodySchema = T.Object({
  code: T.String(),
  message: T.String(),
  field: T.Optional(T.String()),
});

/** What the registry POSTs to our webhook; delivered at least once, possibly out of order. Dedupe by `id`. */
export const RegistryEventSchema = T.Object({
  id: Uuid,
  type: T.Union([T.Literal('fine.issued'), T.Literal('fine.paid')]),
  reportId: Uuid,
  caseNumber: T.String({ minLength: 1 }),
  amountSum: T.Integer({ minimum: 0 }),
  occurredAt: T.String({ format: 'date-time' }),
  /**
   * On `fine.issued`: the ruling's number, which the driver quotes with the plate to look the case up. Registries
   * that predate it leave it out; such a case is kept but cannot be looked up.
   */
  rulingNumber: T.Optional(T.String({ minLength: 4, maxLength: 32, pattern: '^[0-9A-Z-]+$' })),
});
export type RegistryEvent = Static<typeof RegistryEventSchema>;

/** The supervisors' decision on a driver's appeal against the ruling of a case. */
export const AppealDecisionSchema = T.Object(
  {
    /** Also the idempotency key: the registry applies one appeal's decision once. */
    appealId: Uuid,
    reportId: Uuid,
    caseNumber: T.String({ minLength: 1, maxLength: 64 }),
    decision: T.Union([T.Literal('uphold'), T.Literal('cancel'), T.Literal('correct')]),
    /** With `correct`: the violation the ruling should have named. */
    violationCode: T.Optional(T.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AppealDecision = Static<typeof AppealDecisionSchema>;

export const AppealDecisionReceiptSchema = T.Object({
  appealId: Uuid,
  /** The case after the decision: `cancelled` when the fine was cancelled. */
  caseStatus: CaseStatusSchema,
  /** The registry had applied this appeal's decision already and answered as it did then. */
  duplicate: T.Boolean(),
});
export type AppealDecisionReceipt = Static<typeof AppealDecisionReceiptSchema>;

export interface GovRegistry {
  readonly name: string;
  submitCase(c: CaseSubmission, signal?: AbortSignal): Promise<CaseReceipt>;
  getCase(reportId: string, signal?: AbortSignal): Promise<GovCase | null>;
  /** Idempotent by `appealId`; the case must exist (an unknown case is a permanent rejection). */
  decideAppeal(d: AppealDecision, signal?: AbortSignal): Promise<AppealDecisionReceipt>;
  /** For metrics and the operator. */
  breakerState(): BreakerState;
}

export type UnavailableReason =
  | 'breaker_open'
  | 'bulkhead_full'
  | 'timeout'
  | 'network'
  | 'server_error'
  | 'rate_limited'
  | 'conflict'
  | 'bad_response';

/**
 * Retryable: the registry could not be reached or could not answer now. The caller (the forwarding job) lets its
 * queue retry no sooner than `retryAfterMs`; resubmitting is safe because the registry dedupes by report id.
 */
export class RegistryUnavailableError extends Error {
  readonly retryable = true;
  readonly reason: UnavailableReason;
  readonly retryAfterMs: number;
  readonly status: number | undefined;
  constructor(
    reason: UnavailableReason,
    message: string,
    opts: { retryAfterMs: number; status?: number; cause?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'RegistryUnavailableError';
    this.reason = reason;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}

/**
 * Permanent: the registry refused this submission (bad input, unknown violation code, our credentials). Retrying
 * the same request cannot help; the report records `code`/`message` and stops.
 */
export class RegistryRejectedError extends Error {
  readonly retryable = false;
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /**
   * Our side is at fault for every request, not this one (bad credentials, wrong base URL): the forwarder should
   * hold the report and alert the operator rather than record it as rejected.
   */
  readonly misconfigured: boolean;
  constructor(status: number, code: string, message: string, field?: string) {
    super(`gov registry rejected the request (${status} ${code}): ${message}`);
    this.name = 'RegistryRejectedError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.misconfigured = status === 401 || status === 403 || status === 404 || status === 405;
  }
}

export function isRegistryRetryable(err: unknown): err is RegistryUnavailableError {
  return err instanceof RegistryUnavailableError;
}

export type { BreakerState };
