import { type Static, Type as T } from '@sinclair/typebox';
import { SubmitReportBody } from './reports.schema.js';

/**
 * The citizen's answer to the inspector's question: words, more files, or both (that one is there is checked once
 * the report is known to be theirs, so another's report is "not found" whatever the body).
 */
export const AnswerBody = T.Object(
  {
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    text: T.Optional(T.String({ minLength: 1, maxLength: 2000, pattern: '^[^\\u0000]*$' })),
    evidenceIds: T.Optional(
      T.Array(T.String({ format: 'uuid' }), { minItems: 1, maxItems: 10, uniqueItems: true }),
    ),
  },
  { additionalProperties: false },
);
export type AnswerBody = Static<typeof AnswerBody>;

/** A correction: any of a report's claims, each validated as when the report was filed; at least one (as above). */
export const CorrectionBody = T.Partial(T.Omit(SubmitReportBody, ['evidenceIds']), {
  additionalProperties: false,
});
export type CorrectionBody = Static<typeof CorrectionBody>;
