import { toError } from '../platform/errors/catalog.js';
import { FailureLog, type WarnLogger } from '../platform/metrics/failures.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import type { SamplerParts } from './overview.schema.js';

/**
 * The background readings behind the dashboard and `jarima capacity`: queue depth and age (src/ops/sampler.ts),
 * the dashboard's minute, the capacity measurements and the installation's CPU (src/ops/capacity-recorder.ts).
 */
export type SamplerPart = keyof SamplerParts;

/** A part whose last success is older than this many of its intervals is stale: what it feeds stopped updating. */
const STALE_AFTER_INTERVALS = 3;

export interface SamplerHealthOptions {
  metrics: Pick<Metrics, 'samplerErrors' | 'samplerLastSuccess' | 'samplerInterval'>;
  logger: WarnLogger;
  now?: () => number;
}

/**
 * How each part fares: every failure counted (jarima_sampler_errors_total) and logged at most once a minute per
 * part, every success stamped (jarima_sampler_last_success_timestamp_seconds), and the overview told which parts
 * are stale — a gauge whose reading fails keeps its last value, which would otherwise look current. The stamp and
 * the interval (jarima_sampler_interval_seconds) let an alert rule see the same staleness from the metrics alone.
 */
export class SamplerHealth {
  private readonly parts = new Map<
    SamplerPart,
    { everyMs: number; since: number; lastSuccess: number | null; failures: number; lastError: string | null }
  >();
  private readonly failures: FailureLog;
  private readonly now: () => number;

  constructor(private readonly opts: SamplerHealthOptions) {
    this.now = opts.now ?? Date.now;
    this.failures = new FailureLog({
      logger: opts.logger,
      source: 'ops sampler',
      count: (part) => opts.metrics.samplerErrors.inc({ part }),
      now: this.now,
    });
  }

  /** Runs one reading of `part`, expected every `everyMs`: its result, or undefined when it failed (reported). */
  async attempt<T>(part: SamplerPart, everyMs: number, read: () => Promise<T>): Promise<T | undefined> {
    let state = this.parts.get(part);
    if (!state) {
      state = { everyMs, since: this.now(), lastSuccess: null, failures: 0, lastError: null };
      // Until its first success a part ages from its first try, as in state(): one failing from the start is stale
      // (and alerts) like one that stopped succeeding, instead of having no stamp to age from.
      this.opts.metrics.samplerLastSuccess.set({ part }, state.since / 1000);
    }
    state.everyMs = everyMs;
    this.parts.set(part, state);
    this.opts.metrics.samplerInterval.set({ part }, everyMs / 1000);
    try {
      const value = await read();
      state.lastSuccess = this.now();
      state.lastError = null;
      this.opts.metrics.samplerLastSuccess.set({ part }, state.lastSuccess / 1000);
      return value;
    } catch (err) {
      state.failures++;
      state.lastError = toError(err).message;
      this.failures.report(part, err);
      return undefined;
    }
  }

  /** Every part attempted so far. */
  state(): SamplerParts {
    const now = this.now();
    const out: SamplerParts = {};
    for (const [part, s] of this.parts) {
      const ageMs = now - (s.lastSuccess ?? s.since);
      out[part] = {
        stale: ageMs > STALE_AFTER_INTERVALS * s.everyMs,
        ageSeconds: Math.round(ageMs / 100) / 10,
        lastSuccessAt: s.lastSuccess === null ? null : new Date(s.lastSuccess).toISOString(),
        failures: s.failures,
        lastError: s.lastError,
      };
    }
    return out;
  }
}
