import type { Schedule } from './arrivals.js';
import { quantile, type ScheduleResult, table } from './open-loop.js';

export interface ClassStats {
  name: string;
  sent: number;
  ok: number;
  errors: number;
  shed: number;
  /** 2xx answers per second of the phase. */
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Per request class and over all: sent, answered (2xx), shed (503 OVERLOADED, counted apart: shedding is the
 * designed answer to overload) and errors (anything else, failed connections included). Latency percentiles are over
 * every answer but the shed ones, which return at once and would flatter them.
 */
export function classStats(
  names: readonly string[],
  schedule: Schedule,
  result: ScheduleResult,
  shed: Uint8Array,
): ClassStats[] {
  const seconds = result.elapsedMs / 1000;
  const of = (name: string, member: (i: number) => boolean): ClassStats => {
    const lat: number[] = [];
    let [sent, ok, errors, shedCount] = [0, 0, 0, 0];
    for (let i = 0; i < schedule.cls.length; i++) {
      if (!member(i)) continue;
      sent++;
      const status = result.status[i]!;
      if (shed[i]) {
        shedCount++;
        continue;
      }
      lat.push(result.latencyMs[i]!);
      if (status >= 200 && status < 300) ok++;
      else errors++;
    }
    lat.sort((a, b) => a - b);
    return {
      name,
      sent,
      ok,
      errors,
      shed: shedCount,
      achieved: ok / seconds,
      p50: quantile(lat, 0.5),
      p95: quantile(lat, 0.95),
      p99: quantile(lat, 0.99),
      max: lat.at(-1) ?? 0,
    };
  };
  return [...names.map((n, c) => of(n, (i) => schedule.cls[i] === c)), of('all', () => true)].filter(
    (s) => s.sent > 0,
  );
}

export function classTable(stats: ClassStats[]): string {
  return table(
    ['class', 'sent', 'achieved/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'shed'],
    stats.map((s) => [
      s.name,
      s.sent,
      s.achieved.toFixed(0),
      s.p50.toFixed(1),
      s.p95.toFixed(1),
      s.p99.toFixed(1),
      s.max.toFixed(0),
      s.errors,
      s.shed,
    ]),
  );
}
