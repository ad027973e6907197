import pg from 'pg';
import { toError } from '../errors/catalog.js';
import { FailureLog, processWarnings } from '../metrics/failures.js';

/** Anything that runs a parameterised query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;
export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// bigint columns (counts, byte sizes, sums) fit comfortably in a JS number here; parse them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number.parseFloat(v));

export function createPool(connectionString: string, max: number, applicationName = 'jarima'): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName });
  // A client that loses its connection (database restart) must not crash the process: the loss is reported
  // instead, once per connection — pg emits the server's reason and then "Connection terminated unexpectedly", and
  // pg-pool hands an idle client's errors to the pool's 'error' as well.
  const lost = new WeakSet<pg.PoolClient>();
  const connectionLost = (client: pg.PoolClient, err: Error) => {
    if (lost.has(client)) return;
    lost.add(client);
    poolError(pool, 'connection', err);
  };
  pool.on('error', (err, client) => connectionLost(client, err));
  pool.on('connect', (client) => client.on('error', (err) => connectionLost(client, err)));
  return pool;
}

/**
 * Errors of a pool that no query returns to a caller: a connection that failed (idle, or under a query whose
 * caller sees it too), a rollback that failed, a change listener that threw.
 */
export type PoolErrorKind = 'connection' | 'rollback' | 'change_listener';

const reporters = new WeakMap<object, Pick<FailureLog, 'report'>>();

/**
 * Where this pool's unreturned errors go: the composition root's FailureLog (a rate-limited log line and
 * jarima_db_pool_errors_total). Until one is set, they are written at most once a minute per kind as Node
 * warnings on stderr (a pool of a CLI command or a benchmark).
 */
export function reportPoolErrors(pool: pg.Pool, to: Pick<FailureLog, 'report'>): void {
  reporters.set(pool, to);
}

function poolError(pool: object, kind: PoolErrorKind, err: unknown): void {
  let reporter = reporters.get(pool);
  if (!reporter) {
    reporter = new FailureLog({ logger: processWarnings, source: 'database pool' });
    reporters.set(pool, reporter);
  }
  reporter.report(kind, toError(err));
}

/**
 * What committed work changed: reports by id and citizens whose list moved (for the caches that hold copies), and
 * how many reports entered each status (for the stages' arrival counts).
 */
export interface Changes {
  reports: string[];
  citizens: string[];
  entered: Record<string, number>;
}
export type ChangeListener = (changes: Changes) => void;

// Both keyed by objects the caller holds (its pool; the client of an open transaction), so nothing here outlives them.
const changeListeners = new WeakMap<object, ChangeListener[]>();
const openTransactions = new WeakMap<
  object,
  { reports: Set<string>; citizens: Set<string>; entered: Record<string, number> }
>();

/** Calls fn after every commit, through this pool, that changed reports (write-through invalidation of caches). */
export function onChanges(pool: pg.Pool, fn: ChangeListener): void {
  changeListeners.set(pool, [...(changeListeners.get(pool) ?? []), fn]);
}

/**
 * Records what a write changed. Inside `withTransaction` the listeners hear of it only after the commit (a
 * rollback tells nobody); a statement run on the pool itself has committed already, so they hear at once.
 */
export function noteChanges(db: Queryable, changes: Partial<Changes>): void {
  const open = openTransactions.get(db);
  if (open) {
    for (const id of changes.reports ?? []) open.reports.add(id);
    for (const id of changes.citizens ?? []) open.citizens.add(id);
    for (const [status, n] of Object.entries(changes.entered ?? {}))
      open.entered[status] = (open.entered[status] ?? 0) + n;
    return;
  }
  tell(db, {
    reports: changes.reports ?? [],
    citizens: changes.citizens ?? [],
    entered: changes.entered ?? {},
  });
}

function tell(pool: object, changes: Changes): void {
  if (
    changes.reports.length === 0 &&
    changes.citizens.length === 0 &&
    Object.keys(changes.entered).length === 0
  )
    return;
  for (const fn of changeListeners.get(pool) ?? []) {
    // The work has committed: a listener's failure must not make it look failed to the caller.
    try {
      fn(changes);
    } catch (err) {
      poolError(pool, 'change_listener', err);
    }
  }
}

/**
 * Runs fn in one transaction: commit on success, rollback on any error. On `held`, a client the caller keeps (and
 * releases) itself, instead of one taken from the pool for the transaction.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (trx: pg.PoolClient) => Promise<T>,
  held?: pg.PoolClient,
): Promise<T> {
  const client = held ?? (await pool.connect());
  const changes = {
    reports: new Set<string>(),
    citizens: new Set<string>(),
    entered: {} as Record<string, number>,
  };
  openTransactions.set(client, changes);
  // A client whose rollback failed may still be inside the transaction: it goes, rather than back to the pool.
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    openTransactions.delete(client);
    tell(pool, { reports: [...changes.reports], citizens: [...changes.citizens], entered: changes.entered });
    return result;
  } catch (err) {
    try {
      await client.query('rollback');
    } catch (rollbackErr) {
      broken = toError(rollbackErr);
      poolError(pool, 'rollback', broken);
    }
    throw err;
  } finally {
    openTransactions.delete(client);
    if (!held) client.release(broken);
  }
}
