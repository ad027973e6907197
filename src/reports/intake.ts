import type { Logger } from 'pino';
import { enqueueJobs, reportJob } from '../pipeline/jobs.js';
import { type Pool, type PoolClient, withTransaction } from '../platform/db/pool.js';
import { AppError, toError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import { eventColumns, eventHash, INSERT_EVENTS_SQL, type ReportEvent } from './events.js';
import type { ReportStatus } from './status.js';

export interface Submission {
  citizenId: string;
  violationCode: string;
  plate: string;
  plateInput: string;
  lat: number;
  lon: number;
  incidentAt: Date;
  description: string | null;
  evidenceIds: string[];
  idempotencyKey: string | null;
  /** sha256 of the canonical request body, to tell a replay from a reused key. */
  requestHash: Buffer;
}

export interface Accepted {
  id: string;
  status: ReportStatus;
  /** True when an earlier request with the same Idempotency-Key created this report. */
  replayed: boolean;
}

interface Pending {
  s: Submission;
  resolve: (a: Accepted) => void;
  reject: (e: Error) => void;
}

export interface IntakeOptions {
  /** Most submissions committed in one transaction. */
  maxBatch: number;
  /** Transactions in flight at once; submissions arriving meanwhile wait and form the next batch. */
  maxInFlight: number;
}

/**
 * Report intake with group commit. Each submission is answered only after the transaction holding it commits —
 * the report, its first event and its `validate` job together — so "accepted" always means durably stored and
 * queued. While `maxInFlight` transactions are committing, new submissions queue up and go together in the next
 * one: at low load every request gets its own transaction at once, at high load one commit (and one NOTIFY from
 * add_jobs) serves hundreds. A NOTIFY per request capped intake at ~1.9k/s here; see bench/README.md for this
 * design's figures.
 */
export class GroupCommitIntake {
  private queue: Pending[] = [];
  private inFlight = 0;
  /** Counters for benchmarks and tests: transactions committed and submissions they carried. */
  readonly stats = { batches: 0, submissions: 0, largestBatch: 0 };
  private idle: (() => void)[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly opts: IntakeOptions,
    private readonly log: Logger,
  ) {}

  submit(s: Submission): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      this.queue.push({ s, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once everything submitted so far has been committed or failed. */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    // Two submissions in one batch with the same key: the first goes in, the others replay or conflict with it.
    const leaders: Pending[] = [];
    const followers: { p: Pending; leader: Pending }[] = [];
    const byKey = new Map<string, Pending>();
    for (const p of batch) {
      const key = p.s.idempotencyKey === null ? null : `${p.s.citizenId}\0${p.s.idempotencyKey}`;
      const leader = key === null ? undefined : byKey.get(key);
      if (leader) followers.push({ p, leader });
      else {
        if (key !== null) byKey.set(key, p);
        leaders.push(p);
      }
    }

    let outcomes: Map<Pending, Accepted | Error>;
    try {
      outcomes = await withTransaction(this.pool, (trx) => insertBatch(trx, leaders));
      this.stats.batches++;
      this.stats.submissions += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    } catch (err) {
      if (leaders.length > 1) {
        // Isolate the cause: retry each alone so one bad submission cannot fail its neighbours.
        this.log.warn({ err, size: leaders.length }, 'intake batch failed; retrying one by one');
        outcomes = new Map();
        for (const p of leaders) {
          try {
            const single = await withTransaction(this.pool, (trx) => insertBatch(trx, [p]));
            outcomes.set(p, single.get(p)!);
          } catch (e) {
            outcomes.set(p, classify(e));
          }
        }
      } else {
        outcomes = new Map(leaders.map((p) => [p, classify(err)]));
      }
    }

    for (const [p, outcome] of outcomes) {
      if (outcome instanceof Error) p.reject(outcome);
      else p.resolve(outcome);
    }
    for (const { p, leader } of followers) {
      const o = outcomes.get(leader)!;
      if (o instanceof Error) p.reject(o);
      else if (!p.s.requestHash.equals(leader.s.requestHash))
        p.reject(new AppError('IDEMPOTENCY_KEY_REUSED', { field: 'Idempotency-Key' }));
      else p.resolve({ ...o, replayed: true });
    }
  }
}

/** A database that is down or restarting is a 503 to retry, not a 500. */
function classify(err: unknown): Error {
  const e = toError(err) as Error & { code?: string };
  if (e instanceof AppError) return e;
  if (
    typeof e.code === 'string' &&
    (e.code.startsWith('08') || e.code.startsWith('57P') || e.code === 'ECONNREFUSED')
  ) {
    return new AppError('SERVICE_UNAVAILABLE', { cause: e });
  }
  return e;
}

/**
 * Inserts a batch in the caller's transaction with a fixed number of statements whatever its size: ownership check
 * of the evidence, idempotency keys, reports, evidence links, first events, jobs.
 */
async function insertBatch(trx: PoolClient, batch: Pending[]): Promise<Map<Pending, Accepted | Error>> {
  const outcomes = new Map<Pending, Accepted | Error>();

  // 1. Every evidence id must have been uploaded by the submitting citizen.
  const pairs = batch.flatMap((p) => p.s.evidenceIds.map((e) => [p.s.citizenId, e] as const));
  const owned = new Set<string>();
  if (pairs.length) {
    const { rows } = await trx.query<{ citizen_id: string; evidence_id: string }>(
      `select citizen_id, evidence_id from evidence_uploads
        where (citizen_id, evidence_id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
      [pairs.map((x) => x[0]), pairs.map((x) => x[1])],
    );
    for (const r of rows) owned.add(`${r.citizen_id}:${r.evidence_id}`);
  }
  let live: Pending[] = [];
  for (const p of batch) {
    const missing = p.s.evidenceIds.findIndex((e) => !owned.has(`${p.s.citizenId}:${e}`));
    if (missing >= 0)
      outcomes.set(p, new AppError('EVIDENCE_NOT_FOUND', { field: `evidenceIds.${missing}` }));
    else live.push(p);
  }

  // 2. Claim idempotency keys. A key already taken (possibly by a concurrent batch, whose commit we wait for)
  //    replays that report when the body matches and conflicts when it does not.
  const ids = new Map<Pending, string>(live.map((p) => [p, newId()]));
  const keyed = live.filter((p) => p.s.idempotencyKey !== null);
  if (keyed.length) {
    const { rows: claimed } = await trx.query<{ citizen_id: string; key: string }>(
      `insert into idempotency_keys (citizen_id, key, request_hash, report_id)
       select * from unnest($1::uuid[], $2::text[], $3::bytea[], $4::uuid[])
       on conflict do nothing returning citizen_id, key`,
      [
        keyed.map((p) => p.s.citizenId),
        keyed.map((p) => p.s.idempotencyKey),
        keyed.map((p) => p.s.requestHash),
        keyed.map((p) => ids.get(p)),
      ],
    );
    const won = new Set(claimed.map((r) => `${r.citizen_id}\0${r.key}`));
    const lost = keyed.filter((p) => !won.has(`${p.s.citizenId}\0${p.s.idempotencyKey}`));
    if (lost.length) {
      const { rows: earlier } = await trx.query<{
        citizen_id: string;
        key: string;
        request_hash: Buffer;
        report_id: string;
        status: ReportStatus;
      }>(
        `select k.citizen_id, k.key, k.request_hash, k.report_id, r.status
           from idempotency_keys k join reports r on r.id = k.report_id
          where (k.citizen_id, k.key) in (select * from unnest($1::uuid[], $2::text[]))`,
        [lost.map((p) => p.s.citizenId), lost.map((p) => p.s.idempotencyKey)],
      );
      const byKey = new Map(earlier.map((r) => [`${r.citizen_id}\0${r.key}`, r]));
      for (const p of lost) {
        const prior = byKey.get(`${p.s.citizenId}\0${p.s.idempotencyKey}`);
        if (prior?.request_hash.equals(p.s.requestHash))
          outcomes.set(p, { id: prior.report_id, status: prior.status, replayed: true });
        else outcomes.set(p, new AppError('IDEMPOTENCY_KEY_REUSED', { field: 'Idempotency-Key' }));
      }
      live = live.filter((p) => !lost.includes(p));
    }
  }
  if (live.length === 0) return outcomes;

  // 3. Reports, their evidence, their first event and their first job.
  const at = new Date();
  const events: (ReportEvent & { prevHash: null; hash: Buffer })[] = live.map((p) => {
    const e: ReportEvent = {
      reportId: ids.get(p)!,
      seq: 1,
      type: 'submitted',
      fromStatus: null,
      toStatus: 'received',
      actor: 'citizen',
      data: { evidenceCount: p.s.evidenceIds.length },
      at,
    };
    return { ...e, prevHash: null, hash: eventHash(null, e) };
  });
  await trx.query(
    `insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description,
                          status, last_event_hash, received_at, updated_at)
     select id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description, 'received', h, $11, $11
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
                   $8::timestamptz[], $9::text[], $10::bytea[])
            as t(id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description, h)`,
    [
      live.map((p) => ids.get(p)),
      live.map((p) => p.s.citizenId),
      live.map((p) => p.s.violationCode),
      live.map((p) => p.s.plate),
      live.map((p) => p.s.plateInput),
      live.map((p) => p.s.lat),
      live.map((p) => p.s.lon),
      live.map((p) => p.s.incidentAt),
      live.map((p) => p.s.description),
      events.map((e) => e.hash),
      at,
    ],
  );
  const links = live.flatMap((p) =>
    [...new Set(p.s.evidenceIds)].map((e, i) => [ids.get(p)!, e, i] as const),
  );
  await trx.query(
    `insert into report_evidence (report_id, evidence_id, position)
     select * from unnest($1::uuid[], $2::uuid[], $3::smallint[])`,
    [links.map((l) => l[0]), links.map((l) => l[1]), links.map((l) => l[2])],
  );
  await trx.query(INSERT_EVENTS_SQL, eventColumns(events));
  await enqueueJobs(
    trx,
    live.map((p) => reportJob('validate', ids.get(p)!)),
  );
  for (const p of live) outcomes.set(p, { id: ids.get(p)!, status: 'received', replayed: false });
  return outcomes;
}
