import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** Starts `jarima start` as a separate process with `env` and resolves with the URL it printed. */
export async function startServer(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const { proc, match } = await startJarima('start', env, /Jarima is running at (http:\/\/\S+)/);
  return { url: match[1]!, proc };
}

/** Starts `jarima worker` (pipeline pools only) as a separate process. */
export async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  return (await startJarima('worker', env, /Jarima worker running/)).proc;
}

async function startJarima(
  command: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  // BENCH_NODE_ARGS passes flags to the server's Node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/jarima.mjs'), command], {
    // Pools keep the sizes a benchmark gives them unless it turns the autoscaler on (bench -- autoscale).
    env: { ...process.env, AUTOSCALE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    proc.on('exit', (code) => reject(new Error(`jarima ${command} exited ${code}:\n${out}`)));
  });
  return { proc, match };
}

/** SIGTERM, then wait for the exit (a no-op if it already exited). */
export async function stopServer(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.on('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** A citizen signed in the way the app does it, with the code from the SMS simulator's outbox. */
export async function signInCitizen(
  url: string,
  phone: string,
): Promise<{ token: string; subjectId: string; expiresAt: string }> {
  const post = (p: string, body: unknown) =>
    fetch(url + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/v1/auth/otp', { phone });
  const outbox = (await (await fetch(`${url}/v1/dev/outbox?to=${encodeURIComponent(phone)}`)).json()) as {
    messages: { text: string }[];
  };
  const code = /\b(\d{6})\b/.exec(outbox.messages[0]!.text)![1];
  const verified = (await (await post('/v1/auth/otp/verify', { phone, code })).json()) as {
    token: string;
    subjectId: string;
    expiresAt?: string;
  };
  return {
    token: verified.token,
    subjectId: verified.subjectId,
    expiresAt: verified.expiresAt ?? new Date(Date.now() + 3600_000).toISOString(),
  };
}
