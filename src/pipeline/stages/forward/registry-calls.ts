import {
  type CaseSubmission,
  type GovRegistry,
  RegistryRejectedError,
  RegistryUnavailableError,
} from '../../../integrations/gov-registry/port.js';
import type { Logger } from '../../../platform/logger.js';

/** The registry calls of a claim run this many at a time (the adapter's bulkhead caps it too). */
const FORWARD_PARALLEL = 8;
/** Waits when the registry gives no hint: the first retry, doubling to the cap while it stays away. */
export const MIN_RETRY_MS = 1000;
const MISCONFIGURED_RETRY_MS = 60_000;

export type Outcome =
  | { kind: 'forwarded'; caseNumber: string; duplicate: boolean }
  | { kind: 'rejected'; code: string; message: string }
  | { kind: 'unavailable'; retryAfterMs: number; reason: string };

export interface CallDeps {
  registry: GovRegistry;
  logger: Logger;
}

/** Whether the registry as a whole is away (the rest of a batch would only fail fast), not just this call. */
export function registryAway(o: Outcome): boolean {
  return o.kind === 'unavailable' && (o.reason === 'breaker_open' || o.reason === 'misconfigured');
}

/**
 * One outcome per case, in order. Runs outside any transaction: a slow registry holds no row lock and no database
 * connection. `signal` ends the calls still running when the claim's lease runs out.
 */
export async function callRegistry(
  deps: CallDeps,
  cases: CaseSubmission[],
  signal: AbortSignal,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  // Once the breaker is open, the rest of the batch is not even tried: it would only fail fast.
  let away: Outcome | null = null;
  await Promise.all(
    Array.from({ length: Math.min(FORWARD_PARALLEL, cases.length) }, async () => {
      while (next < cases.length) {
        const i = next++;
        if (away) {
          outcomes[i] = away;
          continue;
        }
        const o = await submit(deps, cases[i]!, signal);
        outcomes[i] = o;
        if (registryAway(o)) away = o;
      }
    }),
  );
  return outcomes;
}

async function submit(deps: CallDeps, c: CaseSubmission, signal: AbortSignal): Promise<Outcome> {
  try {
    const receipt = await deps.registry.submitCase(c, signal);
    return { kind: 'forwarded', caseNumber: receipt.caseNumber, duplicate: receipt.duplicate };
  } catch (err) {
    if (signal.aborted) {
      // The lease ran out: another sweep may own the report by now. Its next claim asks again (idempotent).
      return { kind: 'unavailable', retryAfterMs: MIN_RETRY_MS, reason: 'lease_expired' };
    }
    if (err instanceof RegistryUnavailableError) {
      return { kind: 'unavailable', retryAfterMs: err.retryAfterMs, reason: err.reason };
    }
    if (err instanceof RegistryRejectedError) {
      if (err.misconfigured) {
        // A wrong key or URL is ours to fix, not the report's fault: hold everything and shout.
        deps.logger.error({ err }, 'gov registry refuses our credentials or address: forwarding on hold');
        return { kind: 'unavailable', retryAfterMs: MISCONFIGURED_RETRY_MS, reason: 'misconfigured' };
      }
      return { kind: 'rejected', code: err.code, message: err.message };
    }
    // Anything unexpected: keep the report and try again later rather than lose or fail it.
    deps.logger.error({ err, reportId: c.reportId }, 'forwarding failed unexpectedly');
    return { kind: 'unavailable', retryAfterMs: MIN_RETRY_MS, reason: 'unexpected' };
  }
}
