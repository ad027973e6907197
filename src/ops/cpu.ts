import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Queryable } from '../platform/db/pool.js';

// CPU time from Linux's /proc, for the product (the installation's CPU per report, src/ops/capacity-recorder.ts)
// and the benchmarks (bench/lib/cpu.ts: CPU per report of the server, PostgreSQL and the load generator).

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux architecture Node runs on). */
const TICKS = 100;

export interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime: children that exited and were waited for, seconds. */
  children: number;
}

/** The CPU fields of a /proc/<pid>/stat line. */
export function parseProcStat(text: string): ProcStat {
  // The command name (field 2) is in parentheses and may hold spaces: the fields are counted after its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (field: number) => Number(f[field - 3]);
  return { ppid: n(4), own: (n(14) + n(15)) / TICKS, children: (n(16) + n(17)) / TICKS };
}

/**
 * A process that is gone (or hidden from us: hidepid), or a system without /proc. Anything else — a /proc that
 * reads wrong — is a fault the caller should hear of.
 */
function isAbsent(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES';
}

/** /proc/<pid>/stat's CPU times, or null where there is no such process (or no /proc). */
export async function procStat(pid: number | 'self'): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

async function commOf(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

export interface ProcInfo extends ProcStat {
  pid: number;
  /** The command line, arguments separated by spaces. */
  cmdline: string;
}

/**
 * Every process /proc shows now, read synchronously so a benchmark takes one reading between two phases (a
 * process that ends while it is read is left out); empty without /proc.
 */
export function processes(): ProcInfo[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch (err) {
    if (isAbsent(err)) return [];
    throw err;
  }
  const out: ProcInfo[] = [];
  for (const p of pids) {
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'latin1').replaceAll('\0', ' ');
      out.push({ pid: Number(p), cmdline, ...parseProcStat(readFileSync(`/proc/${p}/stat`, 'latin1')) });
    } catch (err) {
      if (!isAbsent(err)) throw err;
    }
  }
  return out;
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
 * Throws when pg_stat_activity cannot be read (the database is away); processCpuSeconds is this process's alone.
 */
export async function installationCpu(db: Queryable): Promise<InstallationCpu> {
  const { rows } = await db.query<{ pid: number }>('select pid from pg_stat_activity');
  const own = await processCpuSeconds();
  const stats = (await Promise.all(rows.map((r) => procStat(r.pid)))).filter((s) => s !== null);
  const postmaster = stats[0]?.ppid;
  if (!postmaster || !(await commOf(postmaster))?.startsWith('postgres'))
    return { process: own, postgres: null };
  const main = await procStat(postmaster);
  if (!main) return { process: own, postgres: null };
  let postgres = main.own + main.children;
  for (const s of stats) if (s.ppid === postmaster) postgres += s.own;
  return { process: own, postgres };
}

/** This process's CPU seconds with its finished children; without /proc, its own alone (process.cpuUsage). */
export async function processCpuSeconds(): Promise<number> {
  const self = await procStat('self');
  if (self) return self.own + self.children;
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * CPU seconds the whole machine has spent busy since boot (every core, every process): the dashboard's "CPU cores
 * busy", which tells an operator how full the machine is. Capacity planning takes the installation's own CPU
 * instead (installationCpu), which does not count what else the machine runs.
 */
export function machineCpuSeconds(): number {
  let ms = 0;
  for (const c of os.cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms / 1000;
}
