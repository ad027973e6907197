import '../platform/formats.js';
import { Value } from '@sinclair/typebox/value';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { JobHelpers, Task, TaskList } from 'graphile-worker';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { JOB_NAMES, JOB_SCHEMAS, type JobName, type JobPayload } from './jobs.js';

export interface JobHandler<N extends JobName = JobName> {
  name: N;
  handle(payload: JobPayload<N>, helpers: JobHelpers): Promise<void>;
}

/**
 * Transient failures (the database restarting, a connection reset) are retried in place with exponential backoff
 * and decorrelated jitter (cockatiel: 128 ms doubling to 30 s), so a fleet of workers does not stampede a database
 * coming back. After that the job fails and graphile-worker's own backoff takes over; permanent per-report errors
 * never reach here (the stage runner sets such reports aside).
 */
const RETRY_TRANSIENT = retry(handleWhen(isDatabaseUnavailable), {
  maxAttempts: 6,
  backoff: new ExponentialBackoff({ initialDelay: 128, maxDelay: 30_000 }),
});

/**
 * Turns the handlers into graphile-worker's task list, refusing to start unless every registered job name has
 * exactly one handler and every handler belongs to a registered job. Payloads are checked against the job's schema
 * before the handler sees them.
 */
export function buildTaskList(handlers: JobHandler[]): TaskList {
  const taskList: TaskList = {};
  for (const h of handlers) {
    if (!(h.name in JOB_SCHEMAS)) throw new Error(`handler for unregistered job "${h.name}"`);
    if (taskList[h.name]) throw new Error(`two handlers for job "${h.name}"`);
    const schema = JOB_SCHEMAS[h.name];
    const task: Task = async (payload, helpers) => {
      if (!Value.Check(schema, payload)) {
        const first = [...Value.Errors(schema, payload)][0];
        throw new Error(`job ${h.name}: malformed payload at ${first?.path || '/'}: ${first?.message}`);
      }
      await RETRY_TRANSIENT.execute(() => h.handle(payload as never, helpers));
    };
    taskList[h.name] = task;
  }
  const missing = JOB_NAMES.filter((n) => !taskList[n]);
  if (missing.length) throw new Error(`no handler for job(s): ${missing.join(', ')}`);
  return taskList;
}
