import { readFile } from 'node:fs/promises';
import type { Queryable } from '../platform/db/pool.js';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux architecture Node runs on). */
const TICKS = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime: children that exited and were waited for, seconds. */
  children: number;
}

/** /proc/<pid>/stat's CPU times, or null where there is no such process (or no /proc). */
export async function procStat(pid: number | 'self'): Promise<ProcStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: the fields are counted after its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { ppid: n(4), own: (n(14) + n(15)) / TICKS, children: (n(16) + n(17)) / TICKS };
}

async function commOf(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return null;
  }
}

export interface InstallationCpu {
  /** CPU seconds since each process started: this process (with its finished children: ffmpeg, ffprobe) … */
  process: number;
  /** … and PostgreSQL's (its postmaster, every live backend, and the backends that have exited), when it runs here. */
  postgres: number | null;
}

/**
 * The CPU an installation spends, as opposed to the machine's: this process and, when PostgreSQL runs on the same
 * machine, PostgreSQL — found from its backends' pids (pg_stat_activity), which /proc must show as `postgres`
 * processes under one postmaster. A load generator, a browser or another service on the same machine is not in it,
 * which a machine-wide figure could not tell apart (`npm run bench -- autoscale`: 28.9 ms per report machine-wide
 * predicted 69 reports/s against 335/s measured; the installation's own 15.7 ms predicted 127/s against 149/s).
 */
export async function installationCpu(db: Queryable): Promise<InstallationCpu> {
  const self = await procStat('self');
  const own = self ? self.own + self.children : cpuUsageSeconds();
  let postgres: number | null = null;
  try {
    const { rows } = await db.query<{ pid: number }>('select pid from pg_stat_activity');
    const stats = (await Promise.all(rows.map((r) => procStat(r.pid)))).filter((s) => s !== null);
    const postmaster = stats[0]?.ppid;
    if (postmaster && (await commOf(postmaster))?.startsWith('postgres')) {
      const main = await procStat(postmaster);
      if (main) {
        postgres = main.own + main.children;
        for (const s of stats) if (s.ppid === postmaster) postgres += s.own;
      }
    }
  } catch {
    // Not allowed to read pg_stat_activity, or the database is away: this process's CPU alone.
  }
  return { process: own, postgres };
}

/** This process's CPU where there is no /proc (its finished children not included). */
function cpuUsageSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
