import { processes } from '../../src/ops/cpu.js';

export interface ProcessGroup {
  /** The group's processes, or its roots when `descendants` is set. */
  match: (pid: number, cmdline: string) => boolean;
  /** Also every process below a matched one (a PostgreSQL server's backends). */
  descendants?: boolean;
  /**
   * Count only the processes' own CPU, not that of their ended children — for a group whose processes have
   * children outside it (this load generator started the server and PostgreSQL).
   */
  ownOnly?: boolean;
}

/**
 * CPU seconds (user + system, all threads) used so far by each group of processes, read from /proc (Linux;
 * src/ops/cpu.ts). A group can be one process tree (our embedded PostgreSQL, not any process named postgres — other
 * checkouts' test databases come and go), and each process may also count its ended children's CPU (cutime +
 * cstime), so the group keeps the time of backends and autovacuum workers that exit between two readings: both keep
 * a reading from going down on a shared machine. A process counts in every group it matches.
 */
export function treeCpuSeconds(groups: Record<string, ProcessGroup>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((k) => [k, 0]));
  const procs = new Map(processes().map((p) => [p.pid, p]));
  for (const [name, g] of Object.entries(groups)) {
    const members = new Set([...procs.values()].filter((p) => g.match(p.pid, p.cmdline)).map((p) => p.pid));
    if (g.descendants) {
      for (let grew = true; grew; ) {
        grew = false;
        for (const p of procs.values()) {
          if (!members.has(p.pid) && members.has(p.ppid)) {
            members.add(p.pid);
            grew = true;
          }
        }
      }
    }
    for (const pid of members) {
      const p = procs.get(pid)!;
      out[name]! += p.own + (g.ownOnly ? 0 : p.children);
    }
  }
  return out;
}

/** CPU seconds each group's live processes used so far, their own only (no descendants, no ended children). */
export function cpuSeconds(
  groups: Record<string, (pid: number, cmdline: string) => boolean>,
): Record<string, number> {
  return treeCpuSeconds(
    Object.fromEntries(Object.entries(groups).map(([name, match]) => [name, { match, ownOnly: true }])),
  );
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
