import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';

export interface OpenLoopResult {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RequestSpec {
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** `POST /v1/evidence` with one file as multipart/form-data (field `file`), as the app sends an upload. */
export function evidenceUpload(
  token: string,
  file: Buffer,
  filename: string,
  mime = 'image/jpeg',
): RequestSpec {
  const boundary = `----jarima${randomBytes(8).toString('hex')}`;
  return {
    method: 'POST',
    path: '/v1/evidence',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      authorization: `Bearer ${token}`,
    },
    body: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
          `Content-Type: ${mime}\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

/**
 * Open-model load: request i is due at start + i/rate whatever happened to earlier ones, and its latency is
 * measured from that intended time, so a stalled server is charged for the queue it causes (no coordinated
 * omission). Responses with a status other than `okStatus` count as errors.
 */
export async function openLoop(opts: {
  /** Reuse one pool across steps, so connection set-up is not charged to a measured step. */
  pool: Pool;
  rate: number;
  seconds: number;
  okStatus: number;
  /** One request per arrival, or `act` for an arrival that is several requests (its last status counts). */
  next?: (i: number) => RequestSpec;
  act?: (i: number) => Promise<{ status: number; text: string }>;
}): Promise<OpenLoopResult> {
  const { pool } = opts;
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < total && start + (i * 1000) / opts.rate <= now) {
        const intended = start + (i * 1000) / opts.rate;
        const act = opts.act ?? ((n: number) => send(pool, opts.next!(n)));
        const arrival = act(i);
        i++;
        inflight.push(
          arrival
            .then(({ status, text }) => {
              latencies.push(performance.now() - intended);
              if (status === opts.okStatus) ok++;
              else {
                errors++;
                if (errorSamples.length < 3) errorSamples.push(`${status} ${text.slice(0, 120)}`);
              }
            })
            .catch((err: Error) => {
              latencies.push(performance.now() - intended);
              errors++;
              if (errorSamples.length < 3) errorSamples.push(err.message);
            }),
        );
      }
      // Sleep until the next arrival is due, not a fixed 1 ms: at 100/s a 1 ms tick woke the generator ten times per
      // arrival, doubling its CPU per report (1.4 against 0.7 ms) and preempting the server it measures.
      if (i < total) setTimeout(tick, start + (i * 1000) / opts.rate - performance.now());
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    rate: opts.rate,
    seconds: opts.seconds,
    sent: total,
    ok,
    errors,
    errorSamples,
    achieved: ok / elapsed,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: latencies.at(-1) ?? 0,
  };
}

export interface ScheduleResult {
  /** Per arrival, from its intended send time to the end of its response body. */
  latencyMs: Float64Array;
  /** Per arrival; 0 = no response (the request failed). */
  status: Uint16Array;
  elapsedMs: number;
  /** Most requests sent and not yet answered at one time (queued in the client included). */
  maxInFlight: number;
  /** How late the generator itself sent: the worst, and how many went out over 5 ms after their time. */
  maxSendLagMs: number;
  lateSends: number;
}

/**
 * Open-model load on a given schedule: arrival i is sent at start + dueMs[i] (ascending) whatever happened to
 * earlier ones, and its latency counts from that intended time (no coordinated omission), as in openLoop. Results
 * go into typed arrays, so a long run keeps a few bytes per request; `onResponse` sees each body, e.g. to tell a
 * shed 503 from another.
 */
export async function openSchedule(opts: {
  dueMs: Float64Array;
  act: (i: number) => Promise<{ status: number; text: string }>;
  onResponse?: (i: number, status: number, text: string) => void;
}): Promise<ScheduleResult> {
  const total = opts.dueMs.length;
  const latencyMs = new Float64Array(total);
  const status = new Uint16Array(total);
  let inFlight = 0;
  let maxInFlight = 0;
  let maxSendLagMs = 0;
  let lateSends = 0;
  let i = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const settle = (n: number, intended: number, code: number, text: string) => {
      latencyMs[n] = performance.now() - intended;
      status[n] = code;
      opts.onResponse?.(n, code, text);
      inFlight--;
      if (i === total && inFlight === 0) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (i < total && start + opts.dueMs[i]! <= now) {
        const n = i++;
        const intended = start + opts.dueMs[n]!;
        const lag = now - intended;
        if (lag > 5) lateSends++;
        if (lag > maxSendLagMs) maxSendLagMs = lag;
        inFlight++;
        opts.act(n).then(
          (r) => settle(n, intended, r.status, r.text),
          (err: unknown) => settle(n, intended, 0, err instanceof Error ? err.message : String(err)),
        );
      }
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (i < total) setTimeout(tick, start + opts.dueMs[i]! - performance.now());
      else if (inFlight === 0) resolve();
    };
    tick();
  });
  return { latencyMs, status, elapsedMs: performance.now() - start, maxInFlight, maxSendLagMs, lateSends };
}

/** The q-quantile of ascending-sorted values (0 when empty). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

export async function send(pool: Pool, spec: RequestSpec): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    body: spec.body,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

export function clientPool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

/** A fixed-width text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padStart(widths[c]!)).join(' | ')} |`;
  return [
    line(headers),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}
