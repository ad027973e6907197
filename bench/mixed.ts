import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool as HttpPool } from 'undici';
import { prepareDatabase } from '../src/app/setup.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool, type Pool } from '../src/platform/db/pool.js';
import { newId } from '../src/platform/ids.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { cacheCounts, statementStats } from './lib/admin-stats.js';
import { dailyCurve, daySegments, poissonSchedule, type Schedule, seededRandom } from './lib/arrivals.js';
import { cpuPerUnit, type ProcessGroup, treeCpuSeconds } from './lib/cpu.js';
import {
  type PhaseOutcome,
  type PhaseReading,
  phaseOutcome,
  printComparison,
  printPhase,
} from './lib/mixed-report.js';
import { CLASSES, MixedRequests } from './lib/mixed-requests.js';
import { listenOverflows } from './lib/netstat.js';
import { clientPool, openSchedule, send } from './lib/open-loop.js';
import { execTotals } from './lib/pg-statements.js';
import { classStats } from './lib/phase-stats.js';
import { startServer, stopServer } from './lib/server.js';
import { type Population, seedVolume } from './lib/volume.js';

export interface MixedBenchOptions {
  /** Length of the compressed day. */
  seconds: number;
  /** Mean arrivals per second over the day (the curve goes below and above it). */
  rate: number;
  /** The spike's rate as a multiple of `rate`, and its length. */
  spike: number;
  spikeSeconds: number;
  /** Load at `rate` before the day on each server, not reported (connections, JIT, cache). */
  warmup: number;
  /** Weight per class, in CLASSES order. */
  mix: number[];
  citizens: number;
  reports: number;
  inspectors: number;
  /** Most client connections at once (one per active user at most). */
  connections: number;
  seed: number;
  /** Runs in order: `on` with the cache, `off` with CACHE_ENABLED=false. */
  cache: ('on' | 'off')[];
  /** Event log whose time-of-day column shapes the day. */
  replay: string;
}

interface Phase {
  name: string;
  schedule: Schedule;
}

/**
 * `npm run bench -- mixed`: the platform's read-heavy traffic as an open model — status polls, list pages,
 * statistics, map and reference reads, the inspectors' queue and report submissions — over a day compressed into
 * seconds and shaped by a real event log, then a spike; first with the cache, then the same schedule (same seed,
 * same requests) with CACHE_ENABLED=false on the same database.
 */
export async function mixedBench(o: MixedBenchOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-mixed-'));
  const pgDir = path.resolve(tmp, 'pg');
  const db = await startEmbeddedPostgres({
    dir: pgDir,
    settings: { shared_preload_libraries: 'pg_stat_statements' },
  });
  const pool = createPool(db.url, 4);
  try {
    await prepareDatabase(pool);
    const secret = randomBytes(32).toString('hex');
    const curve = dailyCurve(o.replay);
    console.log(`seeding ${o.citizens} citizens, ${o.inspectors} inspectors and ${o.reports} reports …`);
    const random = seededRandom(o.seed);
    const pop = await seedVolume(pool, deriveKeys(secret).token, { ...o, curve, random });
    const requests = new MixedRequests(pop);
    const phases: Phase[] = [
      { name: 'warm-up', schedule: poissonSchedule([{ seconds: o.warmup, rate: o.rate }], o.mix, random) },
      { name: 'day', schedule: poissonSchedule(daySegments(curve, o.seconds, o.rate), o.mix, random) },
      {
        name: 'spike',
        schedule: poissonSchedule([{ seconds: o.spikeSeconds, rate: o.rate * o.spike }], o.mix, random),
      },
    ];
    console.log(
      `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
        `Node ${process.version}; the load generator, the server and PostgreSQL share it`,
    );
    console.log(
      `users: ${o.citizens} citizens with active sessions (a token each; ${o.reports} reports between them over ` +
        `30 days), ${o.inspectors} inspectors, the anonymous public; up to ${o.connections} client connections. ` +
        'Server: JARIMA_WORKERS=none (the read path alone; submissions stay received), shedding at its defaults.',
    );
    console.log(
      `day: ${path.basename(o.replay)}, events per hour of day (${Math.min(...curve).toFixed(2)}–` +
        `${Math.max(...curve).toFixed(2)} × the mean), as 24 steps over ${o.seconds} s at a mean of ${o.rate}/s; ` +
        `spike: ${o.spike} × ${o.rate}/s for ${o.spikeSeconds} s; Poisson arrivals, seed ${o.seed}; mix % ` +
        CLASSES.map((c, i) => `${c} ${o.mix[i]}`).join(', '),
    );

    const runs: { cache: string; day: PhaseOutcome; spike: PhaseOutcome }[] = [];
    for (const cache of o.cache) {
      const evidence = await evidenceForSubmissions(pool, phases, requests);
      await pool.query('vacuum analyze');
      await pool.query('checkpoint');
      const env = {
        DATABASE_URL: db.url,
        JARIMA_SECRET: secret,
        JARIMA_DATA_DIR: path.join(tmp, 'data'),
        PORT: '0',
        LOG_LEVEL: 'warn',
        JARIMA_WORKERS: 'none',
        RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
        RATE_LIMIT_PUBLIC_PER_MINUTE: '1000000',
        CACHE_ENABLED: cache === 'on' ? 'true' : 'false',
      };
      let child: ChildProcess | undefined;
      let http: HttpPool | undefined;
      try {
        const started = await startServer(env);
        child = started.proc;
        // What the server logs at warn and above (LOG_LEVEL=warn), shown after each phase.
        const logged: string[] = [];
        const keep = (d: Buffer) => logged.push(...d.toString().split('\n').filter(Boolean));
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        http = clientPool(started.url, o.connections);
        const serverPid = child.pid;
        const groups: Record<string, ProcessGroup> = {
          server: { match: (pid) => pid === serverPid },
          // Our embedded server (its command line names its data directory) and its backends.
          postgres: { match: (_, cmd) => cmd.includes(` -D ${pgDir} `), descendants: true },
          'load generator': { match: (pid) => pid === process.pid, ownOnly: true },
        };
        const outcomes: PhaseOutcome[] = [];
        for (const [p, phase] of phases.entries()) {
          const measured = p > 0;
          const outcome = await runPhase(`cache ${cache}`, phase, measured, {
            http,
            pop,
            requests,
            evidence: evidence[p]!,
            groups,
            logged,
            pool,
          });
          if (outcome) outcomes.push(outcome);
        }
        runs.push({ cache, day: outcomes[0]!, spike: outcomes[1]! });
      } finally {
        await http?.close();
        await stopServer(child);
      }
    }
    printComparison(runs);
  } finally {
    await pool.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Sends one phase's schedule and, when it is measured, prints and returns what it came to. */
async function runPhase(
  run: string,
  { name, schedule }: Phase,
  measured: boolean,
  ctx: {
    http: HttpPool;
    pop: Population;
    requests: MixedRequests;
    evidence: Map<number, string>;
    groups: Record<string, ProcessGroup>;
    pool: Pool;
    /** The server's log lines so far; this phase's are taken out. */
    logged: string[];
  },
): Promise<PhaseOutcome | null> {
  const { http, pop, requests } = ctx;
  const read = async (): Promise<PhaseReading> => ({
    cache: await cacheCounts(http, pop.adminToken),
    statements: await statementStats(http, pop.adminToken),
    exec: await execTotals(ctx.pool),
  });
  const shed = new Uint8Array(schedule.cls.length);
  const samples: string[] = [];
  const before = await read();
  const cpu0 = treeCpuSeconds(ctx.groups);
  const overflows0 = listenOverflows();
  const result = await openSchedule({
    dueMs: schedule.dueMs,
    act: (i) =>
      send(http, requests.build(CLASSES[schedule.cls[i]!]!, schedule.pick[i]!, ctx.evidence.get(i))),
    onResponse: (i, status, text) => {
      if (status === 503 && text.includes('"OVERLOADED"')) shed[i] = 1;
      else if ((status < 200 || status >= 300) && samples.length < 5)
        samples.push(`${CLASSES[schedule.cls[i]!]} ${status} ${text.slice(0, 140)}`);
    },
  });
  const cpu1 = treeCpuSeconds(ctx.groups);
  const overflows1 = listenOverflows();
  const after = await read();
  const log = ctx.logged.splice(0);
  const stats = classStats(CLASSES, schedule, result, shed);
  if (!measured) {
    console.log(
      `\n[${run}] ${name}: ${schedule.cls.length} requests in ${schedule.seconds} s, p99 ` +
        `${stats.at(-1)?.p99.toFixed(1)} ms, errors ${stats.at(-1)?.errors} (not counted below)`,
    );
    return null;
  }
  const outcome = phaseOutcome(name, stats, before, after, cpuPerUnit(cpu0, cpu1, schedule.cls.length));
  const asCitizen = new Set((['status', 'list', 'submit'] as const).map((c) => CLASSES.indexOf(c)));
  const citizens = new Set<number>();
  for (let i = 0; i < schedule.cls.length; i++) {
    if (asCitizen.has(schedule.cls[i]!)) citizens.add(schedule.pick[i]! % pop.citizens.length);
  }
  const overflows = overflows0 === null || overflows1 === null ? null : overflows1 - overflows0;
  const extra = { ...result, citizens: citizens.size, samples, log, overflows };
  printPhase(run, outcome, schedule.seconds, extra, before, after);
  return outcome;
}

/**
 * One fresh evidence item per submission of each phase, uploaded (as far as the database knows) by the citizen that
 * arrival acts as, so no two submissions share evidence; a run's submissions stay apart from the next run's.
 */
async function evidenceForSubmissions(
  pool: Pool,
  phases: Phase[],
  requests: MixedRequests,
): Promise<Map<number, string>[]> {
  const submit = CLASSES.indexOf('submit');
  const maps = phases.map(() => new Map<number, string>());
  const [ids, owners]: [string[], string[]] = [[], []];
  for (const [p, { schedule }] of phases.entries()) {
    for (let i = 0; i < schedule.cls.length; i++) {
      if (schedule.cls[i] !== submit) continue;
      const id = newId();
      maps[p]!.set(i, id);
      ids.push(id);
      owners.push(requests.citizenOf(schedule.pick[i]!).id);
    }
  }
  await pool.query(
    `with e as (insert into evidence (id, sha256, kind, mime, bytes, width, height)
                select id, sha256(id::text::bytea), 'photo', 'image/jpeg', 250000, 1920, 1080
                  from unnest($1::uuid[]) id)
     insert into evidence_uploads (citizen_id, evidence_id) select * from unnest($2::uuid[], $1::uuid[])`,
    [ids, owners],
  );
  return maps;
}
