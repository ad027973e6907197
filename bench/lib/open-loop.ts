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
      if (i < total) setTimeout(tick, 1);
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
