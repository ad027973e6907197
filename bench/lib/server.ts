import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** Starts `jarima start` as a separate process with `env` and resolves with the URL it printed. */
export async function startServer(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const proc = spawn(process.execPath, [path.join(root, 'bin/jarima.mjs'), 'start'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Jarima is running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${out}`)));
  });
  return { url, proc };
}

/** SIGTERM, then wait for the exit (a no-op if it already exited). */
export async function stopServer(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.on('exit', r));
  proc.kill('SIGTERM');
  await exited;
}
