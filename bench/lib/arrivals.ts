import { readFileSync } from 'node:fs';

export { seededRandom } from '../../src/platform/random.js';

/**
 * Relative activity per hour of the day from an event log's `H:MM` column (NYC collisions: one row per event), scaled
 * so the mean is 1. Hours rather than quarter-hours: clock times in the log are often rounded (0:00, 15:00), which
 * puts false peaks into finer buckets. The column must come before any quoted field, as `CRASH TIME` does.
 */
export function dailyCurve(csvPath: string, column = 'CRASH TIME'): number[] {
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  const col = lines[0]!.split(',').indexOf(column);
  if (col < 0) throw new Error(`${csvPath}: no column ${column}`);
  const counts = Array.from({ length: 24 }, () => 0);
  for (const line of lines.slice(1)) {
    const hour = Number.parseInt(line.split(',', col + 1)[col] ?? '', 10);
    if (hour >= 0 && hour < 24) counts[hour]!++;
  }
  const mean = counts.reduce((a, b) => a + b, 0) / 24;
  if (mean === 0) throw new Error(`${csvPath}: no ${column} values`);
  return counts.map((c) => c / mean);
}

/** A stretch of constant arrival rate. */
export interface Segment {
  seconds: number;
  rate: number;
}

/** One phase's arrivals: when each is due, its request class, and a random word that picks its user and query. */
export interface Schedule {
  dueMs: Float64Array;
  cls: Uint8Array;
  pick: Uint32Array;
  seconds: number;
}

/**
 * Poisson arrivals over piecewise-constant rates (restarting the exponential gap at a segment boundary is exact:
 * the process has no memory), each assigned a class by `weights`.
 */
export function poissonSchedule(segments: Segment[], weights: number[], random: () => number): Schedule {
  const due: number[] = [];
  const cls: number[] = [];
  const pick: number[] = [];
  const total = weights.reduce((a, b) => a + b, 0);
  let start = 0;
  for (const s of segments) {
    const end = start + s.seconds * 1000;
    let t = start;
    while (s.rate > 0) {
      t += (-Math.log(1 - random()) * 1000) / s.rate;
      if (t >= end) break;
      due.push(t);
      let r = random() * total;
      let c = 0;
      while (c < weights.length - 1 && r >= weights[c]!) r -= weights[c++]!;
      cls.push(c);
      pick.push((random() * 2 ** 32) >>> 0);
    }
    start = end;
  }
  return {
    dueMs: Float64Array.from(due),
    cls: Uint8Array.from(cls),
    pick: Uint32Array.from(pick),
    seconds: start / 1000,
  };
}

/** The day curve compressed into `seconds`, one segment per hour, at `rate` × the hour's weight. */
export function daySegments(curve: number[], seconds: number, rate: number): Segment[] {
  return curve.map((w) => ({ seconds: seconds / curve.length, rate: rate * w }));
}
