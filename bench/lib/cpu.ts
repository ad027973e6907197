import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system, all threads) used so far by each group of processes, read from /proc (Linux). */
export function cpuSeconds(
  groups: Record<string, (pid: number, cmdline: string) => boolean>,
): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((k) => [k, 0]));
  const tick = 100; // USER_HZ on Linux
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const p of pids) {
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'latin1').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / tick;
      for (const [name, match] of Object.entries(groups)) {
        if (match(Number(p), cmdline)) {
          out[name]! += seconds;
          break;
        }
      }
    } catch {
      // the process ended while we read it
    }
  }
  return out;
}

/** CPU used between two readings, in milliseconds per unit of work (per report, per request). */
export function cpuPerUnit(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, ((after[k]! - (before[k] ?? 0)) * 1000) / Math.max(1, units)]),
  );
}
