import '../platform/formats.js';
import { Value } from '@sinclair/typebox/value';
import type { JobHelpers, Task, TaskList } from 'graphile-worker';
import { JOB_NAMES, JOB_SCHEMAS, type JobName, type JobPayload } from './jobs.js';

export interface JobHandler<N extends JobName = JobName> {
  name: N;
  handle(payload: JobPayload<N>, helpers: JobHelpers): Promise<void>;
}

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
      await h.handle(payload as never, helpers);
    };
    taskList[h.name] = task;
  }
  const missing = JOB_NAMES.filter((n) => !taskList[n]);
  if (missing.length) throw new Error(`no handler for job(s): ${missing.join(', ')}`);
  return taskList;
}
