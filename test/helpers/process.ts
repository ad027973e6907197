import { type ChildProcess, spawn } from 'node:child_process';
import { PIPELINE_WAITING } from '../../src/reports/status.js';
import { TEST_SERVER_ENV } from './env.js';
import { makeJpeg } from './media.js';

export interface JarimaProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves when the process printed `pattern`; rejects if it exits first or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** SIGTERM (or another signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `bin/jarima.mjs <args>` as a real process, with a clean environment plus `env`. */
export function spawnJarima(args: string[], env: Record<string, string>): JarimaProcess {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    ...TEST_SERVER_ENV,
    ...env,
  };
  if (!env.DATABASE_URL) delete base.DATABASE_URL;
  if (!env.JARIMA_SECRET) delete base.JARIMA_SECRET;
  const child = spawn(process.execPath, ['bin/jarima.mjs', ...args], {
    env: base,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    child,
    output: () => out,
    waitFor(pattern, ms = 90_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not printed in ${ms} ms: ${pattern}\n${out}`)), ms);
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            child.stderr!.off('data', check);
            resolve(m);
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`exited ${code} before printing ${pattern}:\n${out}`));
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** A small JSON client for a running instance. */
export function client(base: string) {
  const call = async (
    method: string,
    p: string,
    body?: unknown,
    token?: string,
    // biome-ignore lint/suspicious/noExplicitAny: tests read many response shapes
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(base + p, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    call,
    /** Signs in through the SMS simulator's outbox, as a phone would. */
    async signIn(phone: string): Promise<string> {
      await call('POST', '/v1/auth/otp', { phone });
      const outbox = await call('GET', `/v1/dev/outbox?to=${encodeURIComponent(phone)}`);
      const code = /\b(\d{6})\b/.exec(outbox.body.messages[0].text)![1];
      return (await call('POST', '/v1/auth/otp/verify', { phone, code })).body.token;
    },
    async upload(token: string): Promise<string> {
      const form = new FormData();
      form.append(
        'file',
        new Blob([new Uint8Array(await makeJpeg(1280, 720))], { type: 'image/jpeg' }),
        'dashcam.jpg',
      );
      const res = await fetch(`${base}/v1/evidence`, {
        method: 'POST',
        body: form,
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { id: string }).id;
    },
    /** Polls until the report is through the automated stages. */
    async settled(id: string, token: string) {
      for (let i = 0; i < 400; i++) {
        const r = await call('GET', `/v1/reports/${id}`, undefined, token);
        if (!PIPELINE_WAITING.includes(r.body.status)) return r.body;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`report ${id} still received`);
    },
  };
}

export function validReport(evidenceId: string, over: Record<string, unknown> = {}) {
  return {
    violationCode: '128-4.2',
    plate: '01 A 777 AA',
    lat: 41.2995,
    lon: 69.2401,
    incidentAt: new Date(Date.now() - 600_000).toISOString(),
    evidenceIds: [evidenceId],
    ...over,
  };
}

/** Waits for the whole start-up banner of `jarima start` or `jarima api` and returns the URL it printed. */
export async function running(p: JarimaProcess): Promise<string> {
  await p.waitFor(/Press Ctrl-C to stop\./);
  return /Jarima is running at (http:\/\/\S+)/.exec(p.output())![1]!;
}
