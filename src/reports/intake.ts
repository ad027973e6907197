import type { Logger } from 'pino';
import { dutySlot } from '../pipeline/duty.js';
import { sweepJob } from '../pipeline/jobs.js';
import { noteChanges, type Pool, type Queryable } from '../platform/db/pool.js';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { AppError, toError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import { eventColumns, eventHash, type ReportEvent } from './events.js';
import { announceChanges } from './reports.cache.js';
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
  /** Batches in flight at once; submissions arriving meanwhile wait and form the next batch. */
  maxInFlight: number;
  /** Told of each batch committed (capacity planning counts transactions). */
  onBatch?: (size: number) => void;
}

/**
 * Report intake with group commit. Each submission is answered only after the statement holding it commits — the
 * report (status `received`, which is its place in the validate queue), its first event and the validate sweep job
 * together — so "accepted" always means durably stored and queued. While a batch is committing, new submissions
 * queue up and go together in the next one (a second batch starts in parallel only when many are waiting): at low
 * load a request gets its own commit at once, at high load one commit (and one NOTIFY) serves dozens. A NOTIFY per
 * request capped intake at ~1.9k/s; this design sustains ~1.8k/s at p99 34 ms on 2 shared cores (bench/README.md).
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
    // A second transaction starts only when a full-ish batch is waiting: small batches in parallel contend for the
    // same two cores and commit slower than one larger batch (bench/README.md, "flushers").
    while (
      this.queue.length > 0 &&
      this.inFlight < this.opts.maxInFlight &&
      (this.inFlight === 0 || this.queue.length >= PARALLEL_FLUSH_THRESHOLD)
    ) {
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
      outcomes = await insertBatch(this.pool, leaders);
      this.stats.batches++;
      this.stats.submissions += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      this.opts.onBatch?.(batch.length);
    } catch (err) {
      if (leaders.length > 1) {
        // Isolate the cause: retry each alone so one bad submission cannot fail its neighbours.
        this.log.warn({ err, size: leaders.length }, 'intake batch failed; retrying one by one');
        outcomes = new Map();
        for (const p of leaders) {
          try {
            const single = await insertBatch(this.pool, [p]);
            outcomes.set(p, single.get(p)!);
          } catch (e) {
            outcomes.set(p, classify(e));
          }
        }
      } else {
        outcomes = new Map(leaders.map((p) => [p, classify(err)]));
      }
    }

    // Before anyone hears "accepted": their next look at their list, here, includes it (other API processes hear
    // by NOTIFY within milliseconds; not awaited, so acceptance does not wait for it).
    const citizens = [...outcomes].flatMap(([p, o]) =>
      o instanceof Error || o.replayed ? [] : [p.s.citizenId],
    );
    const entered: Record<string, number> = citizens.length ? { received: citizens.length } : {};
    const changes = { reports: [], citizens, entered };
    noteChanges(this.pool, changes);
    void announceChanges(this.pool, changes).catch((err: unknown) =>
      this.log.warn(
        { err },
        'could not announce new reports to other processes; their lists refresh within 10 min',
      ),
    );
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

const PARALLEL_FLUSH_THRESHOLD = 64;

/** A database that is down or restarting is a 503 to retry, not a 500. */
function classify(err: unknown): Error {
  const e = toError(err);
  if (e instanceof AppError) return e;
  return isDatabaseUnavailable(e) ? new AppError('SERVICE_UNAVAILABLE', { cause: e }) : e;
}

/**
 * One statement, hence one round trip and one atomic commit, for the whole batch: check that each report's
 * evidence was uploaded by its citizen, claim idempotency keys, insert the reports, their evidence links and first
 * events, and enqueue one validate sweep. Round trips, not rows, dominated the cost under load: the five-statement
 * transaction this replaced took ~30 ms per batch with four flushers (bench/README.md).
 */
async function insertBatch(db: Queryable, batch: Pending[]): Promise<Map<Pending, Accepted | Error>> {
  const outcomes = new Map<Pending, Accepted | Error>();
  const at = new Date();
  const ids = new Map<Pending, string>(batch.map((p) => [p, newId()]));
  const events = batch.map((p) => {
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
  const links = batch.flatMap((p) => p.s.evidenceIds.map((e, i) => ({ p, evidenceId: e, position: i })));
  const sweep = JSON.stringify([{ identifier: sweepJob('validate').name, payload: {} }]);

  const { rows } = await db.query<{ inserted: string[] | null; unowned: string[] | null }>(
    `with input as (
       select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
                            $8::timestamptz[], $9::text[], $10::bytea[], $11::text[], $12::bytea[])
         as t(id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description, h, idem_key, req_hash)),
     links as (
       select * from unnest($13::uuid[], $14::uuid[], $15::uuid[], $16::smallint[]) as l(report_id, citizen_id, evidence_id, position)),
     unowned_links as (
       select l.report_id, l.evidence_id from links l
        where not exists (select 1 from evidence_uploads u where u.citizen_id = l.citizen_id and u.evidence_id = l.evidence_id)),
     unowned as (select distinct report_id from unowned_links),
     claimed as (
       insert into idempotency_keys (citizen_id, key, request_hash, report_id)
       select citizen_id, idem_key, req_hash, id from input
        where idem_key is not null and id not in (select report_id from unowned)
       on conflict do nothing
       returning report_id),
     accepted as (
       select * from input
        where id not in (select report_id from unowned)
          and (idem_key is null or id in (select report_id from claimed))),
     new_reports as (
       insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description,
                            status, last_event_hash, received_at, updated_at)
       select id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description, 'received', h, $17, $17
         from accepted
       returning id),
     new_links as (
       insert into report_evidence (report_id, evidence_id, position)
       select report_id, evidence_id, position from links where report_id in (select id from accepted)
       returning 1),
     new_events as (
       insert into report_events (report_id, seq, type, from_status, to_status, actor, data, at, prev_hash, hash)
       select * from unnest($18::uuid[], $19::int[], $20::text[], $21::text[], $22::text[], $23::text[], $24::jsonb[],
                            $25::timestamptz[], $26::bytea[], $27::bytea[]) as e(report_id)
        where e.report_id in (select id from accepted)
       returning 1),
     jobs as (
       select graphile_worker.add_jobs(
                array(select json_populate_recordset(null::graphile_worker.job_spec, $28::json)), false)
        where exists (select 1 from accepted) and pipeline_handoff_free($29))
     select (select array_agg(id) from new_reports) as inserted,
            (select array_agg(report_id || ' ' || evidence_id) from unowned_links) as unowned,
            (select count(*) from new_links) + (select count(*) from new_events) + (select count(*) from jobs) as written`,
    [
      batch.map((p) => ids.get(p)),
      batch.map((p) => p.s.citizenId),
      batch.map((p) => p.s.violationCode),
      batch.map((p) => p.s.plate),
      batch.map((p) => p.s.plateInput),
      batch.map((p) => p.s.lat),
      batch.map((p) => p.s.lon),
      batch.map((p) => p.s.incidentAt),
      batch.map((p) => p.s.description),
      events.map((e) => e.hash),
      batch.map((p) => p.s.idempotencyKey),
      batch.map((p) => p.s.requestHash),
      links.map((l) => ids.get(l.p)),
      links.map((l) => l.p.s.citizenId),
      links.map((l) => l.evidenceId),
      links.map((l) => l.position),
      at,
      ...eventColumns(events),
      sweep,
      // No job when the validate sweep is on duty: it claims these reports (src/pipeline/duty.ts).
      dutySlot('validate'),
    ],
  );
  const inserted = new Set(rows[0]?.inserted ?? []);
  // "reportId evidenceId" pairs whose evidence the citizen never uploaded.
  const unowned = new Set(rows[0]?.unowned ?? []);
  const lost: Pending[] = [];
  for (const p of batch) {
    const id = ids.get(p)!;
    if (inserted.has(id)) outcomes.set(p, { id, status: 'received', replayed: false });
    else {
      const missing = p.s.evidenceIds.findIndex((e) => unowned.has(`${id} ${e}`));
      if (missing >= 0)
        outcomes.set(p, new AppError('EVIDENCE_NOT_FOUND', { field: `evidenceIds.${missing}` }));
      else lost.push(p);
    }
  }
  if (lost.length) await resolveLostKeys(db, lost, outcomes);
  return outcomes;
}

/**
 * Submissions whose Idempotency-Key an earlier request holds: the same body replays that report, another body
 * conflicts. Read after the batch committed, so the earlier request's report is visible.
 */
async function resolveLostKeys(
  db: Queryable,
  lost: Pending[],
  outcomes: Map<Pending, Accepted | Error>,
): Promise<void> {
  const { rows } = await db.query<{
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
  const byKey = new Map(rows.map((r) => [`${r.citizen_id}\0${r.key}`, r]));
  for (const p of lost) {
    const prior = byKey.get(`${p.s.citizenId}\0${p.s.idempotencyKey}`);
    if (prior?.request_hash.equals(p.s.requestHash))
      outcomes.set(p, { id: prior.report_id, status: prior.status, replayed: true });
    else outcomes.set(p, new AppError('IDEMPOTENCY_KEY_REUSED', { field: 'Idempotency-Key' }));
  }
}
