import { type Static, Type as T } from '@sinclair/typebox';

export const Liveness = T.Object({ ok: T.Boolean() });

const Check = T.Object({ ok: T.Boolean(), detail: T.Optional(T.String()) });
export type Check = Static<typeof Check>;

/** The readiness answer, 200 or 503: each dependency's check. */
export const Readiness = T.Object({ ok: T.Boolean(), checks: T.Record(T.String(), Check) });
export type Readiness = Static<typeof Readiness>;
