/**
 * The control law of the pipeline autoscaler, pure so it can be tested on numbers with known answers.
 *
 * A stage's workers are servers of one queue. By the utilisation law a stage receiving λ items/s that each take S
 * seconds of a worker keeps λ·S workers busy on average; running them at a target utilisation ρ < 1 leaves room for
 * bursts (queueing delay grows without bound as ρ → 1). On top of that, a backlog of D items must drain within the
 * stage's target queue age T: that takes D·S/T more workers while it lasts (Little's law: a queue of D drained at
 * rate W/S empties in D·S/W). The need is shared among the processes running the stage, and bounded.
 */
export interface StageSignals {
  /** Items arriving per second (all processes), measured over the last interval. */
  arrivalRate: number;
  /** Items per second the forecaster expects over the coming interval, if it has a model. */
  forecastRate?: number | null;
  /** Worker time per item, seconds. */
  serviceSeconds: number;
  /** Items waiting now (all processes). */
  depth: number;
  /** Seconds the oldest waiting item has waited. */
  oldestAgeSeconds: number;
  /** Processes that run this stage (at least 1: this one). */
  processes: number;
}

export interface StagePolicy {
  min: number;
  max: number;
  /** Queue age the stage should stay under, seconds. */
  targetAgeSeconds: number;
  /** Target worker utilisation, 0 < ρ < 1. */
  utilisation: number;
  /**
   * A need below this many workers (over all processes) is served in batches, with no standing worker (0), as long
   * as the oldest item is within its target age; unset or 0: a stage always keeps `min` workers.
   */
  batchBelow?: number;
}

export interface Need {
  /** Workers this process should run (before hysteresis and the global cap). */
  workers: number;
  /** The parts, for the decision log: steady flow and backlog catch-up, in workers over all processes. */
  flow: number;
  backlog: number;
  rate: number;
}

export function workersNeeded(s: StageSignals, p: StagePolicy): Need {
  // Pre-scale: serve the larger of what arrives now and what the forecast says is coming.
  const rate = Math.max(s.arrivalRate, s.forecastRate ?? 0);
  const flow = (rate * s.serviceSeconds) / p.utilisation;
  // A backlog older than its target is drained faster than one that is still young.
  const urgency = s.oldestAgeSeconds > p.targetAgeSeconds ? 2 : 1;
  const backlog = (s.depth * s.serviceSeconds * urgency) / p.targetAgeSeconds;
  const total = flow + backlog;
  // Too little for a worker to be kept busy: let reports gather and sweep them in one go (batches.ts).
  if (p.batchBelow && total < p.batchBelow && s.oldestAgeSeconds <= p.targetAgeSeconds) {
    return { workers: 0, flow, backlog, rate };
  }
  const share = Math.ceil(total / Math.max(1, s.processes) - 1e-9);
  return { workers: clamp(share, p.min, p.max), flow, backlog, rate };
}

/**
 * Shrinks the wanted sizes to fit a global cap (database connections, CPU), keeping every stage's minimum and
 * sharing the rest in proportion to what each wanted above its minimum.
 */
export function fitToCap(
  wanted: Record<string, number>,
  mins: Record<string, number>,
  cap: number,
): Record<string, number> {
  const total = Object.values(wanted).reduce((a, b) => a + b, 0);
  if (total <= cap) return { ...wanted };
  const floor = Object.entries(wanted).reduce((a, [k]) => a + (mins[k] ?? 0), 0);
  const room = Math.max(0, cap - floor);
  const extra = total - floor;
  const out: Record<string, number> = {};
  let given = 0;
  const shares = Object.entries(wanted).map(([k, w]) => {
    const above = w - (mins[k] ?? 0);
    const exact = extra > 0 ? (above * room) / extra : 0;
    out[k] = (mins[k] ?? 0) + Math.floor(exact);
    given += Math.floor(exact);
    return { k, rest: exact - Math.floor(exact), above };
  });
  // Hand out what flooring left over, largest remainders first.
  for (const s of shares.sort((a, b) => b.rest - a.rest)) {
    if (given >= room) break;
    if (out[s.k]! < (wanted[s.k] ?? 0)) {
      out[s.k]!++;
      given++;
    }
  }
  return out;
}

/**
 * Hysteresis: grow at once (a queue that is building costs citizens time), shrink only after the need has stayed
 * lower for `downAfter` consecutive decisions, so a lull between bursts does not churn the pools.
 */
export class Hysteresis {
  private lowFor = new Map<string, number>();

  constructor(private readonly downAfter: number) {}

  next(stage: string, current: number, wanted: number): number {
    if (wanted >= current) {
      this.lowFor.set(stage, 0);
      return wanted;
    }
    const n = (this.lowFor.get(stage) ?? 0) + 1;
    this.lowFor.set(stage, n);
    if (n < this.downAfter) return current;
    this.lowFor.set(stage, 0);
    return wanted;
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
