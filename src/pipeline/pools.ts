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
