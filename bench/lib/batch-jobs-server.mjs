// Bench-only (bench/lib/batch-jobs.ts): `jarima start` with the automated stages on graphile-worker batch jobs in
// the same process.
import { register } from 'tsx/esm/api';

register();
const { startBatchJobWorkers } = await import('./batch-jobs.ts');
const { main } = await import('../../src/app/cli.ts');
const workers = await startBatchJobWorkers(process.env);
const code = await main(['start']);
await workers.stop();
process.exit(code);
