import { Type as T } from '@sinclair/typebox';

/** A violation type's name: English always; Uzbek and Russian where the source data has them. */
export const ViolationName = T.Object({
  en: T.String(),
  uz: T.Union([T.String(), T.Null()]),
  ru: T.Union([T.String(), T.Null()]),
});
