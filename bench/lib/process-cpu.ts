import { readdirSync, readFileSync } from 'node:fs';

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

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
  own: number;
  endedChildren: number;
}

/**
 * Like cpuSeconds (./cpu.ts), with two differences that keep a reading from going down on a shared machine: a group
 * can be one process tree (our embedded PostgreSQL, not any process named postgres — other checkouts' test
 * databases come and go), and each process also counts its ended children's CPU (cutime + cstime), so the group
 * keeps the time of backends and autovacuum workers that exit between two readings.
 */
export function treeCpuSeconds(groups: Record<string, ProcessGroup>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((k) => [k, 0]));
  const tick = 100; // USER_HZ on Linux
  const procs = new Map<number, Proc>();
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
      // After the command's closing paren: state, ppid, …, utime, stime, cutime, cstime (fields 14–17 of stat).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const n = (i: number) => Number(f[i]) / tick;
      procs.set(Number(p), {
        pid: Number(p),
        ppid: Number(f[1]),
        cmdline,
        own: n(11) + n(12),
        endedChildren: n(13) + n(14),
      });
    } catch {
      // the process ended while we read it
    }
  }
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
      out[name]! += p.own + (g.ownOnly ? 0 : p.endedChildren);
    }
  }
  return out;
}
