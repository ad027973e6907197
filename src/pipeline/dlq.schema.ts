import { type Static, Type as T } from '@sinclair/typebox';
import { UUID_PATTERN } from '../platform/formats.js';

/**
 * What the pipeline gave up on: a job that used up its attempts (an outside cause kept failing it), or a report
 * a stage could not handle (a permanent error, status `failed`).
 */
export const DeadLetter = T.Object({
  id: T.String({ description: 'job:<n> or report:<uuid>' }),
  kind: T.Union([T.Literal('job'), T.Literal('report')]),
  stage: T.String(),
  attempts: T.Union([T.Integer(), T.Null()]),
  error: T.Union([T.String(), T.Null()]),
  since: T.String({ format: 'date-time' }),
});
export type DeadLetter = Static<typeof DeadLetter>;

export const DeadLettersQuery = T.Object({ limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }) });

export const DeadLetters = T.Object({ items: T.Array(DeadLetter) });
export type DeadLetters = Static<typeof DeadLetters>;

export const DeadLetterParams = T.Object({
  id: T.String({ pattern: `^(job:\\d{1,18}|report:${UUID_PATTERN})$` }),
});
