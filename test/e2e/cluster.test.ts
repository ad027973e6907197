import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { Upload } from 'tus-js-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { makeJpeg } from '../helpers/media.js';
import { type JarimaProcess, running, spawnJarima } from '../helpers/process.js';
import { testRedisUrl } from '../helpers/redis.js';
import { startTestS3 } from '../helpers/s3.js';
import { demoAccounts, staffLogin } from '../web/browser.js';

/**
 * The scale-out shape on real parts: two `jarima api` and two `jarima worker` processes, each with a data
 * directory of its own, sharing only PostgreSQL, Redis and an S3-compatible bucket, behind Debian's HAProxy. One API
 * process is killed (SIGKILL) in the middle of a tus upload and of multipart uploads streaming through it, and the
 * clients finish them through the other; one
 * worker is killed in the middle of the pipeline. Every report reaches review exactly once per step, is approved
 * through the proxy, and is forwarded to the registry simulator once.
 */
const redisUrl = await testRedisUrl();
const haproxy = await promisify(execFile)('haproxy', ['-v']).then(
  () => true,
  () => false,
);
if (!haproxy) {
  if (process.env.CI === 'true') throw new Error('CI needs haproxy (apt-get install haproxy)');
  console.warn('SKIPPED: the cluster test needs haproxy (apt-get install haproxy)');
}

const procs: JarimaProcess[] = [];
const dirs: string[] = [];
let proxy: ChildProcess | null = null;
afterAll(async () => {
  proxy?.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const N = 12;
const FULL_CHAIN = ['submitted', 'validated', 'deduplicated', 'enriched', 'analyzed'];

async function dataDir(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `jarima-cluster-${name}-`));
  dirs.push(dir);
  return dir;
}

/** A multipart upload whose body is sent in two halves, the second only when `go` resolves. */
async function slowUpload(base: string, token: string, photo: Buffer, go: Promise<void>): Promise<number> {
  const boundary = `----jarima${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="p.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const whole = Buffer.concat([head, photo, tail]);
  const half = Math.floor(whole.length / 2);
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(whole.subarray(0, half));
      await go;
      controller.enqueue(whole.subarray(half));
      controller.close();
    },
  });
  const res = await fetch(`${base}/v1/evidence`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
    body,
    duplex: 'half',
  } as RequestInit);
  return res.status;
}

async function upload(base: string, token: string, photo: Buffer): Promise<{ status: number; id?: string }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'p.jpg');
  const res = await fetch(`${base}/v1/evidence`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, id: ((await res.json()) as { id?: string }).id };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!redisUrl || !haproxy)('two API and two worker hosts behind HAProxy', () => {
  it('file, review and forward reports while an API host and a worker host die', async () => {
    const db = await createTestDatabase();
    const s3 = await startTestS3();
    const env = {
      DATABASE_URL: db.url,
      JARIMA_SECRET: 's'.repeat(48),
      REDIS_URL: redisUrl!,
      REDIS_PREFIX: `cluster${randomBytes(3).toString('hex')}:`,
      BLOB_STORE: 's3',
      ...s3.env,
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_SUBMIT_PER_MINUTE: '100000',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
      WORKER_DEAD_AFTER_SECONDS: '3',
      AUTOSCALE: 'false',
    };
    // The demo unit and staff (an inspector to approve with).
    const seedDir = await dataDir('seed');
    const seed = spawnJarima(['seed', '--demo'], { ...env, JARIMA_DATA_DIR: seedDir });
    expect(await new Promise((r) => seed.child.on('exit', r)), seed.output()).toBe(0);
    const inspector = (await demoAccounts(seedDir)).get('inspector')!;

    const apis = await Promise.all(
      ['api-1', 'api-2'].map(async (name) => {
        const p = spawnJarima(['api'], { ...env, JARIMA_DATA_DIR: await dataDir(name), PORT: '0' });
        procs.push(p);
        return { p, url: await running(p) };
      }),
    );
    const started = await startHaproxy(
      await dataDir('haproxy'),
      apis.map((a) => new URL(a.url).host),
      { check: true },
    );
    proxy = started.proc;
    const base = started.url;

    const workers = await Promise.all(
      ['worker-1', 'worker-2'].map(async (name) => {
        const p = spawnJarima(['worker'], { ...env, JARIMA_DATA_DIR: await dataDir(name) });
        procs.push(p);
        await p.waitFor(/Jarima worker running/);
        return p;
      }),
    );

    // A citizen signs in through the proxy; the code is in the outbox of whichever API process sent it.
    const phone = '+998935550077';
    await fetch(`${base}/v1/auth/otp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone }),
    });
    let code = '';
    for (const a of apis) {
      const outbox = (await (
        await fetch(`${a.url}/v1/dev/outbox?to=${encodeURIComponent(phone)}`)
      ).json()) as {
        messages: { text: string }[];
      };
      code ||= /\b(\d{6})\b/.exec(outbox.messages[0]?.text ?? '')?.[1] ?? '';
    }
    const verified = await fetch(`${base}/v1/auth/otp/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone, code }),
    });
    const token = ((await verified.json()) as { token: string }).token;

    // A tus upload (tus-js-client, as the web app sends one) of a ~10 MB photo in 5 MiB chunks, and multipart uploads
    // streaming through both API processes, when api-1 is killed after the tus upload's first chunk: the tus client
    // asks the proxy (now only api-2) where its upload stands and finishes it there; the broken-off multipart uploads
    // are sent again.
    const photos = await Promise.all(Array.from({ length: N }, () => makeJpeg(1280, 720)));
    const big = await sharp(randomBytes(2400 * 1800 * 3), { raw: { width: 2400, height: 1800, channels: 3 } })
      .jpeg({ quality: 100 })
      .toBuffer();
    // More than one chunk: the kill after the first falls in the middle of the upload.
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const inFlight = photos.slice(0, 4).map((p) => slowUpload(base, token, p, gate).catch(() => 0));
    let retried = 0;
    const tusEvidence = new Promise<{ id: string; bytes: number }>((resolve, reject) => {
      let chunks = 0;
      const upload = new Upload(big, {
        endpoint: `${base}/v1/tus`,
        chunkSize: 5 * 1024 * 1024,
        retryDelays: [200, 500, 1000, 2000, 4000],
        headers: { authorization: `Bearer ${token}` },
        metadata: { filename: 'big.jpg', filetype: 'image/jpeg' },
        onChunkComplete: () => {
          if (++chunks === 1) {
            void apis[0]!.p.stop('SIGKILL').then(() => go());
          }
        },
        onShouldRetry: () => {
          retried++;
          return true;
        },
        onSuccess: ({ lastResponse }) => resolve(JSON.parse(lastResponse.getBody())),
        onError: reject,
      });
      upload.start();
    });
    const viaTus = await tusEvidence;
    expect(viaTus.bytes).toBe(big.length);
    expect(apis[0]!.p.child.exitCode !== null || apis[0]!.p.child.signalCode !== null).toBe(true);
    const first = await Promise.all(inFlight);
    expect(
      first.filter((s) => s !== 201).length,
      `first attempts: ${first}; tus retries ${retried}`,
    ).toBeGreaterThan(0);
    const evidence: string[] = [];
    for (const photo of photos) {
      let r = await upload(base, token, photo);
      for (let i = 0; i < 10 && r.status !== 201 && r.status !== 200; i++) {
        await new Promise((res) => setTimeout(res, 300));
        r = await upload(base, token, photo);
      }
      expect(r.status).toBeLessThan(300);
      evidence.push(r.id!);
    }
    // The evidence is in the bucket, in no host's directory.
    for (const dir of dirs) expect(existsSync(path.join(dir, 'blobs', 'sha256'))).toBe(false);

    const ids: string[] = [];
    for (const [i, e] of evidence.entries()) {
      const res = await fetch(`${base}/v1/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          violationCode: '128-6.1',
          plate: `${String(10 + i).padStart(2, '0')} A ${String(100 + i)} BC`,
          lat: 41.2995 + i / 1000,
          lon: 69.2401,
          incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
          evidenceIds: [e],
        }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
      // A worker dies in the middle: once the pipeline has begun on these reports.
      if (i === N / 2) {
        await waitFor('the pipeline to begin', async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from reports where status <> 'received'`,
          );
          return rows[0].n > 0;
        });
        await workers[0]!.stop('SIGKILL');
      }
    }
    const count = async (status: string) =>
      (
        await db.pool.query(
          `select count(*)::int as n from reports where id = any($1::uuid[]) and status = $2`,
          [ids, status],
        )
      ).rows[0].n as number;
    await waitFor('every report in review', async () => (await count('awaiting_review')) === N);
    const { rows: chains } = await db.pool.query(
      `select array_agg(type order by seq) as types from report_events where report_id = any($1::uuid[]) group by report_id`,
      [ids],
    );
    expect(chains.map((c) => c.types)).toEqual(Array(N).fill(FULL_CHAIN));

    // An inspector approves them all through the proxy; the surviving worker forwards each to the registry once.
    const staff = await staffLogin(base, inspector);
    for (let i = 0; i < N; i++) {
      const next = await fetch(`${base}/v1/review/next`, {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.token}` },
      });
      const id = ((await next.json()) as { report: { id: string } }).report.id;
      const decided = await fetch(`${base}/v1/review/${id}/decision`, {
        method: 'POST',
        headers: { authorization: `Bearer ${staff.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve' }),
      });
      expect(decided.status).toBe(200);
    }
    await waitFor('every report forwarded', async () => {
      const { rows } = await db.pool.query(
        `select count(*)::int as n from report_events where report_id = any($1::uuid[]) and type = 'forwarded'`,
        [ids],
      );
      return rows[0].n >= N;
    });
    const { rows: forwarded } = await db.pool.query(
      `select report_id, count(*)::int as n from report_events
        where report_id = any($1::uuid[]) and type = 'forwarded' group by report_id`,
      [ids],
    );
    expect(forwarded).toHaveLength(N);
    expect(forwarded.every((r) => r.n === 1)).toBe(true);
  }, 240_000);
});
