import { type Static, Type as T } from '@sinclair/typebox';

const Ms = T.Union([T.Number(), T.Null()]);

export const OpsStagePoint = T.Object({
  depth: T.Integer(),
  oldestAgeSeconds: T.Number({ description: 'How long the longest-waiting item has waited (0 when none)' }),
  workers: T.Integer(),
  desiredWorkers: T.Integer(),
  batching: T.Boolean({ description: 'Runs in batches here: workers only while a batch runs' }),
  completed: T.Integer({
    description: 'Items finished in this process in the minute (for `now`, since start)',
  }),
});
export type OpsStagePoint = Static<typeof OpsStagePoint>;

export const OpsPoint = T.Object({
  at: T.String({ format: 'date-time' }),
  submissions: T.Integer({ description: 'Reports filed, all processes' }),
  http: T.Object({ requests: T.Integer(), errors: T.Integer(), p50Ms: Ms, p95Ms: Ms, p99Ms: Ms }),
  stages: T.Record(T.String(), OpsStagePoint),
  cacheHitRate: T.Record(T.String(), T.Union([T.Number(), T.Null()])),
  breakers: T.Record(T.String(), T.Number({ description: '0 closed, 0.5 half-open, 1 open' })),
  eventLoopLagP99Ms: T.Number(),
  cpuSeconds: T.Number({
    description: 'CPU the whole machine spent (all cores, all processes, the database’s included)',
  }),
  rssBytes: T.Integer(),
});
export type OpsPoint = Static<typeof OpsPoint>;

export const SamplerPartState = T.Object({
  stale: T.Boolean({
    description: 'The last success is over three intervals old: its figures stopped updating',
  }),
  ageSeconds: T.Number({
    description: 'Since the last success (since the first attempt, when none succeeded)',
  }),
  lastSuccessAt: T.Union([T.String({ format: 'date-time' }), T.Null()]),
  failures: T.Integer({ description: 'Failures since this process started' }),
  lastError: T.Union([T.String(), T.Null()], {
    description: 'The latest failure, until a success clears it',
  }),
});
export type SamplerPartState = Static<typeof SamplerPartState>;

export const SamplerParts = T.Partial(
  T.Object({
    queues: SamplerPartState,
    points: SamplerPartState,
    capacity: SamplerPartState,
    installation_cpu: SamplerPartState,
    deadlines: SamplerPartState,
  }),
  {
    description:
      'The background readings this process has attempted: queues (depth and age), points (the series), ' +
      'capacity (measurements for `jarima capacity`), installation_cpu (PostgreSQL’s CPU), deadlines (review ' +
      'deadline breaches and dead-letter reports)',
  },
);
export type SamplerParts = Static<typeof SamplerParts>;

export const OpsOverview = T.Object({ now: OpsPoint, series: T.Array(OpsPoint), sampling: SamplerParts });
export type OpsOverview = Static<typeof OpsOverview>;
