import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { goOffDuty, holdHandoffs } from '../duty.js';
import type { JobName } from '../jobs.js';

export interface OwnSession {
  client: PoolClient;
  /** Aborts when the caller's signal does or the session ends: every wait on duty should end then. */
  stopWaiting: AbortSignal;
  /** Throws once the session has ended (its transactions would fail like a poison report's). */
  check: () => void;
}

/**
 * Runs `fn` on a pooled session held for its whole run (duty locks live on a session). The session can end under it
 * (a database restart, a terminated backend): its transactions then fail like a poison report would, so `check`
 * throws once that happened, and the session is ended rather than returned — its locks go with it.
 */
export async function onSessionOfItsOwn<T>(
  pool: Pool,
  signal: AbortSignal | undefined,
  fn: (s: OwnSession) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  let lost: unknown;
  const sessionLost = new AbortController();
  const onLost = (err: unknown) => {
    lost ??= err;
    sessionLost.abort();
  };
  const stopWaiting = signal ? AbortSignal.any([signal, sessionLost.signal]) : sessionLost.signal;
  client.on('error', onLost);
  try {
    return await fn({
      client,
      stopWaiting,
      check: () => {
        if (lost) throw lost;
      },
    });
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    client.off('error', onLost);
    client.release(broken !== undefined);
  }
}

/** Going off duty: waits for the hand-offs that counted on this sweep to commit, takes what they left, lets go. */
export async function offDuty(
  client: PoolClient,
  stageName: JobName,
  lastClaim: () => Promise<number>,
): Promise<number> {
  await holdHandoffs(client, stageName);
  const n = await lastClaim();
  await goOffDuty(client, stageName);
  return n;
}
