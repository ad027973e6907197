import type { Config } from '../platform/config/config.js';
import { JOB_NAMES, type JobName } from './jobs.js';

/**
 * "validate:4,dedupe:2,enrich:4,analyze:2" → sizes per stage; stages not named get 0 (not run in this process);
 * "none" or "" runs no workers. A wrong entry throws with the entry named.
 */
export function parseWorkerPools(spec: string, variable = 'JARIMA_WORKERS'): Record<JobName, number> {
  const sizes = Object.fromEntries(JOB_NAMES.map((n) => [n, 0])) as Record<JobName, number>;
  const text = spec.trim();
  if (text === '' || text === 'none') return sizes;
  for (const entry of text.split(',')) {
    const m = /^\s*([a-z_]+)\s*:\s*(\d{1,3})\s*$/.exec(entry);
    if (!m || !(JOB_NAMES as string[]).includes(m[1]!)) {
      throw new Error(
        `${variable}: "${entry.trim()}" is not <stage>:<number> with stage one of ${JOB_NAMES.join(', ')}`,
      );
    }
    sizes[m[1] as JobName] = Number(m[2]);
  }
  return sizes;
}

/**
 * This process's pool sizes (JARIMA_WORKERS), refused when the database pool cannot serve them: each running job
 * holds a connection for its claim and may use another to prepare, and each pool keeps one for LISTEN. Too small a
 * database pool would deadlock the workers on each other.
 */
export function workerPoolsThatFit(
  config: Pick<Config, 'JARIMA_WORKERS' | 'DB_POOL_MAX'>,
): Record<JobName, number> {
  const sizes = parseWorkerPools(config.JARIMA_WORKERS);
  const needed = Object.values(sizes).reduce((sum, n) => sum + (n > 0 ? 2 * n + 1 : 0), 0);
  if (needed > config.DB_POOL_MAX) {
    throw new Error(
      `DB_POOL_MAX=${config.DB_POOL_MAX} is too small for JARIMA_WORKERS=${config.JARIMA_WORKERS}: it needs at least ${needed}`,
    );
  }
  return sizes;
}
