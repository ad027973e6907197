import { type Static, Type as T } from '@sinclair/typebox';
import { ViolationName } from '../reference/reference.schema.js';

const Id = T.String({ format: 'uuid' });
const Time = T.String({ format: 'date-time' });
const NullableString = T.Union([T.String(), T.Null()]);

export const LookupBody = T.Object(
  {
    /** As printed on the ruling or the car: spaces, dashes and case do not matter. */
    plate: T.String({ minLength: 2, maxLength: 16 }),
    rulingNumber: T.String({ minLength: 4, maxLength: 32, pattern: '^[0-9A-Za-z -]+$' }),
  },
  { additionalProperties: false },
);

/** The driver's case: what the ruling says and the evidence, never who reported it or which staff handled it. */
export const DriverCase = T.Object({
  rulingNumber: T.String(),
  plate: T.String(),
  violation: T.Object({ code: T.String(), name: ViolationName }),
  incidentAt: Time,
  place: T.Object({
    lat: T.Number(),
    lon: T.Number(),
    district: NullableString,
    region: NullableString,
  }),
  fine: T.Object({
    amountSum: T.Union([T.Integer(), T.Null()]),
    ruledAt: T.Union([Time, T.Null()]),
    /** The ruling date plus FINE_PAYMENT_DAYS. */
    payBy: T.Union([Time, T.Null()]),
  }),
  status: T.Union([T.Literal('fined'), T.Literal('paid'), T.Literal('closed')], {
    description:
      'fined: to be paid; paid: paid; closed: the case no longer stands as fined (e.g. after an appeal)',
  }),
  appealableUntil: T.Union([Time, T.Null()], {
    description:
      'The ruling date plus APPEAL_WINDOW_DAYS: the last moment an appeal is taken; null without a ruling date',
  }),
  appealable: T.Boolean({
    description:
      'Whether an appeal can be filed now: a ruling that stands (fined or paid), inside the window, not appealed yet',
  }),
  penaltyPoints: T.Union([T.Integer(), T.Null()], {
    description: 'E-jarimaball points the violation carries on its date; null when none are recorded',
  }),
  evidence: T.Array(
    T.Object({
      id: Id,
      kind: T.Union([T.Literal('photo'), T.Literal('video')]),
      /** Send the case token as `X-Case-Token`, or append `?case=<token>` for an <img> or <video>. */
      url: T.String(),
    }),
  ),
});
export type DriverCase = Static<typeof DriverCase>;

export const LookupResponse = T.Object({
  caseToken: T.String({ description: 'Opens this case only (X-Case-Token or ?case=) for two hours' }),
  case: DriverCase,
});

/** `case` is the token, for an <img> or <video> that cannot send a header. */
export const CaseQuery = T.Object({ case: T.Optional(T.String({ maxLength: 512 })) });
export const CaseEvidenceParams = T.Object({ evidenceId: Id });

const Fraction = T.Number({ minimum: 0, maximum: 1 });
export const RedactionRegion = T.Object(
  {
    x: Fraction,
    y: Fraction,
    w: T.Number({ exclusiveMinimum: 0, maximum: 1 }),
    h: T.Number({ exclusiveMinimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);
export const RedactionsBody = T.Object(
  { regions: T.Array(RedactionRegion, { maxItems: 32 }) },
  { additionalProperties: false },
);
export const RedactionsParams = T.Object({ id: Id, evidenceId: Id });
export const RedactionsResponse = T.Object({
  regions: T.Array(RedactionRegion),
  markedAt: T.Union([Time, T.Null()]),
});
