import {
  type CacheCounts,
  cacheTable,
  hitRate,
  overallP95,
  type QueryStats,
  topStatements,
} from './admin-stats.js';
import { table } from './open-loop.js';
import { type ExecTotals, execOverPhase } from './pg-statements.js';
import { type ClassStats, classTable } from './phase-stats.js';

/** What one measured phase of one run came to. */
export interface PhaseOutcome {
  name: string;
  stats: ClassStats[];
  /** Per cache namespace, over the phase (null: no lookups). */
  hitRates: Record<string, number | null>;
  /** Statement time measured by the server over the phase (with its waits for a connection and the event loop). */
  db: ReturnType<typeof overallP95>;
  /** PostgreSQL's own execution time over the phase: mean and p95 bound (null without pg_stat_statements). */
  pg: { meanMs: number; p95BoundMs: number } | null;
  /** CPU milliseconds per request sent, per process group. */
  cpu: Record<string, number>;
}

export interface PhaseReading {
  cache: CacheCounts;
  statements: QueryStats;
  exec: ExecTotals | null;
}

export function phaseOutcome(
  name: string,
  stats: ClassStats[],
  before: PhaseReading,
  after: PhaseReading,
  cpu: Record<string, number>,
): PhaseOutcome {
  return {
    name,
    stats,
    hitRates: Object.fromEntries(
      Object.keys(after.cache).map((ns) => [ns, hitRate(before.cache, after.cache, ns)]),
    ),
    db: overallP95(before.statements, after.statements),
    pg: before.exec && after.exec ? execOverPhase(before.exec, after.exec) : null,
    cpu,
  };
}

export function printPhase(
  run: string,
  o: PhaseOutcome,
  seconds: number,
  extra: {
    maxInFlight: number;
    maxSendLagMs: number;
    lateSends: number;
    citizens: number;
    samples: string[];
    log: string[];
    /** Connection attempts the kernel dropped during the phase (accept queue full), if known. */
    overflows: number | null;
  },
  before: PhaseReading,
  after: PhaseReading,
): void {
  const all = o.stats.at(-1)!;
  console.log(
    `\n[${run}] ${o.name}: ${all.sent} requests in ${seconds} s (offered ${(all.sent / seconds).toFixed(0)}/s) ` +
      `from ${extra.citizens} distinct citizens, the inspectors and the public, at most ${extra.maxInFlight} in ` +
      "flight; latency from each request's intended send time, shed 503s excluded",
  );
  console.log(classTable(o.stats));
  console.log(
    `  the load generator sent ${extra.lateSends} requests more than 5 ms late ` +
      `(worst ${extra.maxSendLagMs.toFixed(1)} ms; counted in their latency)`,
  );
  for (const s of extra.samples) console.log(`  error: ${s}`);
  if (extra.overflows)
    console.log(
      `  the kernel dropped ${extra.overflows} connection handshakes on a full accept queue (ListenOverflows, whole ` +
        'machine): those clients wait for retransmissions (1 s, 3 s, …), and some are reset or time out',
    );
  if (extra.log.length) {
    console.log(`  the server logged ${extra.log.length} lines at warn or above, such as:`);
    for (const line of extra.log.slice(0, 3)) console.log(`    ${line.slice(0, 300)}`);
  }
  console.log(`cache lookups during the ${o.name} (the warm-up before the day filled the cache):`);
  console.log(cacheTable(before.cache, after.cache));
  console.log(
    `DB statement time measured by the server in the ${o.name} (${o.db.calls} calls, with its waits for a ` +
      `connection and for its event loop): p95 ≈ ${o.db.estimate.toFixed(2)} ms, ≤ ${o.db.bound} ms (its bucket). ` +
      `Most called in the ${o.name}:`,
  );
  console.log(topStatements(before.statements, after.statements, 5));
  if (o.pg)
    console.log(
      `PostgreSQL's own execution time per statement in the ${o.name} (pg_stat_statements): mean ` +
        `${o.pg.meanMs.toFixed(3)} ms, p95 ≤ ${o.pg.p95BoundMs.toFixed(3)} ms (Cantelli bound from mean and deviation)`,
    );
  console.log(
    `CPU per request: ${Object.entries(o.cpu)
      .map(([k, v]) => `${k} ${v.toFixed(2)} ms`)
      .join(', ')}`,
  );
}

export function printComparison(runs: { cache: string; day: PhaseOutcome; spike: PhaseOutcome }[]): void {
  const of = (p: PhaseOutcome, cls: string) => p.stats.find((s) => s.name === cls);
  const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  const rate = (v: number | null | undefined) => (v == null ? '–' : `${(100 * v).toFixed(2)} %`);
  type Row = [string, (r: (typeof runs)[number]) => string | number];
  const namespaces = [...new Set(runs.flatMap((r) => Object.keys(r.day.hitRates)))];
  const rows: Row[] = [
    ['day: status poll p99 ms', (r) => ms(of(r.day, 'status')?.p99)],
    ['day: statistics p99 ms', (r) => ms(of(r.day, 'stats')?.p99)],
    ['day: all p99 ms', (r) => ms(of(r.day, 'all')?.p99)],
    ...namespaces.map((ns): Row => [`day: cache hit rate, ${ns}`, (r) => rate(r.day.hitRates[ns])]),
    ['day: DB p95 ms, server-measured (≈ / ≤)', (r) => `${r.day.db.estimate.toFixed(2)} / ${r.day.db.bound}`],
    [
      'day: PostgreSQL exec mean / p95 ≤ ms',
      (r) => (r.day.pg ? `${r.day.pg.meanMs.toFixed(3)} / ${r.day.pg.p95BoundMs.toFixed(2)}` : '–'),
    ],
    ['day: errors', (r) => of(r.day, 'all')?.errors ?? 0],
    ['day: server CPU ms/request', (r) => (r.day.cpu.server ?? 0).toFixed(2)],
    ['day: PostgreSQL CPU ms/request', (r) => (r.day.cpu.postgres ?? 0).toFixed(2)],
    ['spike: achieved/s', (r) => of(r.spike, 'all')?.achieved.toFixed(0) ?? '–'],
    ['spike: status poll p99 ms', (r) => ms(of(r.spike, 'status')?.p99)],
    ['spike: statistics p99 ms', (r) => ms(of(r.spike, 'stats')?.p99)],
    ['spike: shed', (r) => of(r.spike, 'all')?.shed ?? 0],
    ['spike: errors', (r) => of(r.spike, 'all')?.errors ?? 0],
  ];
  console.log('\nsame schedule and requests, by cache setting:');
  console.log(
    table(
      ['', ...runs.map((r) => `cache ${r.cache}`)],
      rows.map(([label, f]) => [label, ...runs.map(f)]),
    ),
  );
  const on = runs.find((r) => r.cache === 'on');
  if (!on) return;
  const status = of(on.day, 'status')?.p99 ?? 0;
  const stats = of(on.day, 'stats')?.p99 ?? 0;
  const errors = (of(on.day, 'all')?.errors ?? 0) + (of(on.spike, 'all')?.errors ?? 0);
  const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const cached = ['stats', 'reference'].filter((ns) => ns in on.day.hitRates);
  console.log(
    `targets (cache on, day): status p99 < 25 ms ${check(status < 25)}; ` +
      `statistics p99 < 25 ms ${check(stats < 25)}; ` +
      cached.map((ns) => `${ns} hit rate ≥ 99 % ${check((on.day.hitRates[ns] ?? 0) >= 0.99)}; `).join('') +
      `DB p95 < 5 ms: PostgreSQL's own ${check((on.day.pg?.p95BoundMs ?? Number.POSITIVE_INFINITY) < 5)}, ` +
      `as the server measures it ${check(on.day.db.estimate < 5)}; ` +
      `no errors outside shedding, day and spike ${check(errors === 0)}`,
  );
  if (!cached.includes('reference'))
    console.log('  (no `reference` cache namespace: the violation types come from an in-memory snapshot)');
}
