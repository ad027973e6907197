import { type Static, Type as T } from '@sinclair/typebox';

export const Liveness = T.Object({ ok: T.Boolean() });

const Check = T.Object({ ok: T.Boolean(), detail: T.Optional(T.String()) });
export type Check = Static<typeof Check>;

export const SimulatorName = T.Union([
  T.Literal('sms'),
  T.Literal('email'),
  T.Literal('registry'),
  T.Literal('payouts'),
]);

/** The readiness answer, 200 or 503: each dependency's check, and which ports a local simulator stands in for. */
export const Readiness = T.Object({
  ok: T.Boolean(),
  checks: T.Record(T.String(), Check),
  simulators: T.Array(SimulatorName, {
    description:
      'Local simulators running in place of a real system (nothing is really sent or paid through them)',
  }),
});
export type Readiness = Static<typeof Readiness>;
