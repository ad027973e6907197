import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool as Http } from 'undici';
import { prepareDatabase } from '../src/app/setup.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool, type Pool } from '../src/platform/db/pool.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { PIPELINE_WAITING } from '../src/reports/status.js';
import {
  bigJpeg,
  jpegBomb,
  pngBomb,
  randomAfterFtyp,
  smallMp4,
  uniquify,
  videoBomb,
} from '../test/helpers/bombs.js';
import { makeJpeg } from '../test/helpers/media.js';
import { type ProcessGroup, treeCpuSeconds } from './lib/cpu.js';
import {
  clientPool,
  evidenceUpload,
  type OpenLoopResult,
  openLoop,
  quantile,
  send,
  table,
} from './lib/open-loop.js';
import { startServer, stopServer } from './lib/server.js';
import { seedCitizens } from './lib/volume.js';

export interface HostileBenchOptions {
  /** Length of each phase. */
  seconds: number;
  /** Ordinary photo uploads per second. */
  rate: number;
  /** Status reads (GET /v1/reports/:id) per second. */
  reads: number;
  /** Concurrent uploaders per bomb kind, each its own citizen. */
  bombs: number;
  /** How long accepted bombs' reports may take to leave the automated stages after the hostile phase. */
  settle: number;
  /** Bomb kinds to send (all when null), to tell which one costs what. */
  kinds: string[] | null;
  /** The server's RATE_LIMIT_SUBMIT_PER_MINUTE; null lifts it (the bombs then reach the decoders as fast as sent). */
  submitLimit: number | null;
}

interface BombKind {
  name: string;
  what: string;
  filename: string;
  mime: string;
  make: () => Promise<Buffer>;
}

/** What the hostile phase throws at the server, each made once (test/helpers/bombs.ts caches the costly ones). */
const ALL_KINDS: BombKind[] = [
  {
    name: 'png-bomb',
    what: '16383² 16-bit RGBA Adam7 PNG, all rows (2 MB → 2 GiB)',
    filename: 'b.png',
    mime: 'image/png',
    make: () => pngBomb({ width: 16383, height: 16383, bitDepth: 16, interlaced: true, complete: true }),
  },
  {
    name: 'jpeg-bomb',
    what: '16000² progressive JPEG header, ~2600 empty scans (30 KB)',
    filename: 'b.jpg',
    mime: 'image/jpeg',
    make: () => jpegBomb({ width: 16000, height: 16000, progressive: true, manyScans: true }),
  },
  {
    name: 'big-jpeg',
    what: 'legal 7000² progressive photo (49 MP)',
    filename: 'big.jpg',
    mime: 'image/jpeg',
    make: () => bigJpeg(7000, 7000),
  },
  {
    name: 'huge-frame-mov',
    what: 'one complete 16000² MJPEG frame in MOV (4 MB)',
    filename: 'b.mov',
    mime: 'video/quicktime',
    make: () => videoBomb('huge-frame-mov'),
  },
  {
    name: 'many-streams-mp4',
    what: '200 streams (100 H.264 16², 100 AAC), 1 s',
    filename: 'b.mp4',
    mime: 'video/mp4',
    make: () => videoBomb('many-streams-mp4'),
  },
  {
    name: 'long-duration',
    what: '3 h of 16² H.264 at one frame per 10 s',
    filename: 'long.mp4',
    mime: 'video/mp4',
    make: () => videoBomb('long-duration'),
  },
  {
    name: 'unsupported-codec',
    what: 'PNG-coded video in MOV, 2 s 320×240',
    filename: 'png.mov',
    mime: 'video/quicktime',
    make: () => videoBomb('unsupported-codec'),
  },
  {
    name: 'random-after-ftyp',
    what: 'ftyp isom + 64 KB of random bytes',
    filename: 'r.mp4',
    mime: 'video/mp4',
    make: async () => randomAfterFtyp(64 * 1024),
  },
  {
    name: 'control-mp4',
    what: 'an ordinary 2 s 1280×720 H.264 MP4, to show videos still get through',
    filename: 'clip.mp4',
    mime: 'video/mp4',
    make: () => smallMp4(1280, 720),
  },
];

interface KindResult {
  answers: Map<string, number>;
  slowestMs: number;
  latencies: number[];
  reports: string[];
  fileErrors: Map<string, number>;
}

/**
 * `npm run bench -- hostile`: ordinary citizens' uploads and status reads on `jarima start`, first alone (idle),
 * then while other citizens upload hostile media in a loop (decompression bombs, huge frames, many streams, hours
 * of video, unsupported codecs, garbage). Samples the RSS of the server and every process below it (ffmpeg and
 * ffprobe) every 100 ms, and files a report with every bomb the server accepts to see where the pipeline puts it.
 */
export async function hostileBench(o: HostileBenchOptions): Promise<void> {
  const unknown = o.kinds?.filter((k) => !ALL_KINDS.some((x) => x.name === k)) ?? [];
  if (unknown.length)
    throw new Error(`unknown kinds ${unknown.join(', ')}: ${ALL_KINDS.map((k) => k.name).join(', ')}`);
  const kinds = ALL_KINDS.filter((k) => !o.kinds || o.kinds.includes(k.name));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-hostile-'));
  const pgDir = path.join(tmp, 'pg');
  const db = await startEmbeddedPostgres({ dir: pgDir });
  const pool = createPool(db.url, 4);
  let child: ChildProcess | undefined;
  try {
    await prepareDatabase(pool);
    const secret = randomBytes(32).toString('hex');
    console.log('making the hostile media (cached under os.tmpdir()/jarima-bombs) …');
    const bombs = await Promise.all(kinds.map((k) => k.make()));
    const photoCount = Math.round(o.rate * o.seconds) * 2 + READERS;
    console.log(`making ${photoCount} distinct 1280×720 photos …`);
    const photos: Buffer[] = [];
    for (let i = 0; i < photoCount; i++) photos.push(await makeJpeg(1280, 720));

    const started = await startServer({
      DATABASE_URL: db.url,
      JARIMA_SECRET: secret,
      JARIMA_DATA_DIR: path.join(tmp, 'data'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      JARIMA_WORKERS: 'validate:2,dedupe:1,enrich:1,analyze:2',
      // The per-citizen minute limit would turn most bomb uploads into 429s before they reach a decoder; what is
      // measured by default is what the decoders cost, so it is lifted (every other limit keeps its default).
      RATE_LIMIT_SUBMIT_PER_MINUTE: String(o.submitLimit ?? 1_000_000),
    });
    child = started.proc;
    let exited: string | null = null;
    child.on('exit', (code, signal) => (exited = `server exited (${signal ?? code})`));
    const url = started.url;
    const serverPid = child.pid!;
    const groups: Record<string, ProcessGroup> = {
      // With the CPU of its ended children (every ffmpeg and ffprobe run) and of the live ones.
      server: { match: (pid) => pid === serverPid, descendants: true },
      postgres: { match: (_, cmd) => cmd.includes(` -D ${pgDir} `), descendants: true },
      'load generator': { match: (pid) => pid === process.pid, ownOnly: true },
    };
    const cpu: Record<string, number>[] = [];

    const citizens = await seedCitizens(pool, deriveKeys(secret).token, CITIZENS + kinds.length * o.bombs);
    const ordinary = citizens.slice(0, CITIZENS);
    // Each traffic its own connections, enough for every request in flight: a slow upload must not hold a status
    // read back in the client's queue (with one pool of 32, reads waited 3 s behind 10 s uploads).
    const http = clientPool(url, 256);
    const readHttp = clientPool(url, 64);
    const bombHttp = clientPool(url, kinds.length * o.bombs);

    // Readers' reports, filed before the phases (this also warms the server's code paths).
    const readable: { token: string; id: string }[] = [];
    for (let i = 0; i < READERS; i++) {
      const c = ordinary[i]!;
      const up = await upload(http, c.token, photos[i]!, 'p.jpg', 'image/jpeg');
      if (up.status !== 201) throw new Error(`warm-up upload: ${up.status} ${up.text.slice(0, 200)}`);
      const filed = await fileReport(http, c.token, JSON.parse(up.text).id as string, i);
      readable.push({ token: c.token, id: JSON.parse(filed.text).id as string });
    }
    let nextPhoto = READERS;
    const ordinaryLoad = async () => {
      const [uploads, reads] = await Promise.all([
        openLoop({
          pool: http,
          rate: o.rate,
          seconds: o.seconds,
          okStatus: 201,
          act: (i) =>
            upload(http, ordinary[i % CITIZENS]!.token, photos[nextPhoto++]!, 'p.jpg', 'image/jpeg'),
        }),
        openLoop({
          pool: readHttp,
          rate: o.reads,
          seconds: o.seconds,
          okStatus: 200,
          next: (i) => {
            const r = readable[i % readable.length]!;
            return {
              method: 'GET',
              path: `/v1/reports/${r.id}`,
              headers: { authorization: `Bearer ${r.token}` },
            };
          },
        }),
      ]);
      return { uploads, reads };
    };

    console.log(`idle: ${o.rate} uploads/s and ${o.reads} reads/s for ${o.seconds} s …`);
    const idleRss = sampleRss(serverPid);
    cpu.push(treeCpuSeconds(groups));
    await loopLag(url);
    const load = [os.loadavg()[0]!];
    const idle = await ordinaryLoad();
    load.push(os.loadavg()[0]!);
    cpu.push(treeCpuSeconds(groups));
    const lag: Record<'idle' | 'hostile', Lag | null> = { idle: await loopLag(url), hostile: null };
    const idleSamples = idleRss.stop();

    console.log(`hostile: the same, with ${o.bombs} uploaders of each of ${kinds.length} bomb kinds …`);
    const results: KindResult[] = kinds.map(() => ({
      answers: new Map(),
      slowestMs: 0,
      latencies: [],
      reports: [],
      fileErrors: new Map(),
    }));
    let stopping = false;
    let filed = 0;
    const loopers = kinds.flatMap((kind, k) =>
      Array.from({ length: o.bombs }, async (_, copy) => {
        const citizen = citizens[CITIZENS + k * o.bombs + copy]!;
        const r = results[k]!;
        while (!stopping && !exited) {
          const t0 = performance.now();
          const res = await upload(
            bombHttp,
            citizen.token,
            uniquify(bombs[k]!),
            kind.filename,
            kind.mime,
          ).catch((err: Error) => ({ status: 0, text: err.message }));
          const ms = performance.now() - t0;
          r.latencies.push(ms);
          r.slowestMs = Math.max(r.slowestMs, ms);
          const key = answerKey(res);
          r.answers.set(key, (r.answers.get(key) ?? 0) + 1);
          if (res.status !== 201) continue;
          const report = await fileReport(
            bombHttp,
            citizen.token,
            JSON.parse(res.text).id as string,
            10_000 + filed++,
          );
          if (report.status === 202) r.reports.push(JSON.parse(report.text).id as string);
          else r.fileErrors.set(answerKey(report), (r.fileErrors.get(answerKey(report)) ?? 0) + 1);
        }
      }),
    );
    const hostileRss = sampleRss(serverPid);
    const hostileStart = performance.now();
    cpu.push(treeCpuSeconds(groups));
    const hostile = await ordinaryLoad();
    stopping = true;
    await Promise.all(loopers);
    cpu.push(treeCpuSeconds(groups));
    lag.hostile = await loopLag(url);
    load.push(os.loadavg()[0]!);
    const hostileSeconds = (performance.now() - hostileStart) / 1000;
    const hostileSamples = hostileRss.stop();

    console.log(`waiting up to ${o.settle} s for the bombs' reports to leave the automated stages …`);
    const settleRss = sampleRss(serverPid);
    const outcomes = await settle(
      pool,
      results.map((r) => r.reports),
      o.settle * 1000,
    );
    const settleSamples = settleRss.stop();
    await Promise.all([http.close(), readHttp.close(), bombHttp.close()]);

    report(o, {
      idle,
      hostile,
      idleSamples,
      hostileSamples,
      settleSamples,
      results,
      kinds,
      outcomes,
      exited,
      lag,
      load,
      cores: {
        idle: busy(cpu[0]!, cpu[1]!, o.seconds),
        hostile: busy(cpu[2]!, cpu[3]!, hostileSeconds),
      },
    });
  } finally {
    await stopServer(child);
    await pool.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

interface Lag {
  p99: number;
  max: number;
}

/**
 * The server's event-loop delay since the last call, from its /metrics (prom-client's histogram restarts at each
 * collection): a main thread blocked by media work shows here before anywhere else.
 */
async function loopLag(url: string): Promise<Lag | null> {
  // A server that died under the load has no metrics; the report says it exited.
  const text = await fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const lag = {
    p99: value('nodejs_eventloop_lag_p99_seconds'),
    max: value('nodejs_eventloop_lag_max_seconds'),
  };
  return Number.isNaN(lag.max) ? null : lag;
}

/** Cores each group kept busy between two readings. */
function busy(before: Record<string, number>, after: Record<string, number>, seconds: number) {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - before[k]!) / seconds]));
}

/** Ordinary citizens: uploads rotate over them, the first READERS also have a report read back. */
const CITIZENS = 200;
const READERS = 20;

async function upload(
  http: Http,
  token: string,
  file: Buffer,
  filename: string,
  mime: string,
): Promise<{ status: number; text: string }> {
  return send(http, evidenceUpload(token, file, filename, mime));
}

/** A report naming the evidence, with a plate and place of its own so dedupe never merges two of them. */
function fileReport(http: Http, token: string, evidenceId: string, i: number) {
  return send(http, {
    method: 'POST',
    path: '/v1/reports',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      violationCode: '128-6.1',
      plate: `${String(10 + (i % 80)).padStart(2, '0')} A ${String(i % 1000).padStart(3, '0')} ${String.fromCharCode(65 + (((i / 1000) % 26) | 0))}B`,
      lat: 41.2 + (i % 97) / 1000,
      lon: 69.2 + (i % 89) / 1000,
      incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
      evidenceIds: [evidenceId],
    }),
  });
}

/** "201", or "422 EVIDENCE_LIMITS_EXCEEDED": the status and, for errors, the catalog code. */
function answerKey(res: { status: number; text: string }): string {
  if (res.status === 0) return `no answer (${res.text.slice(0, 40)})`;
  if (res.status < 400) return String(res.status);
  try {
    return `${res.status} ${(JSON.parse(res.text) as { code?: string }).code ?? ''}`.trim();
  } catch {
    return String(res.status);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Memory of the server's process tree

interface RssSample {
  /** The server's own RSS and its descendants' (ffmpeg, ffprobe), bytes. */
  server: number;
  children: number;
  /** Descendants alive at the time. */
  tools: number;
  /** Descendants' RSS by command name (ffmpeg, ffprobe; esbuild is tsx's, there from the start). */
  byName: Record<string, number>;
}

/**
 * Every 100 ms, the RSS of `root` and every process below it, from /proc (ppid from /proc/<pid>/stat, VmRSS from
 * /proc/<pid>/status). A child that lives less than 100 ms can be missed; ffmpeg's big allocations last longer.
 */
function sampleRss(root: number): { stop: () => RssSample[] } {
  const samples: RssSample[] = [];
  const take = () => {
    const children = new Map<number, { pid: number; name: string }[]>();
    for (const entry of readdirSync('/proc')) {
      if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
      const stat = statOf(Number(entry));
      if (stat)
        children.set(stat.ppid, [
          ...(children.get(stat.ppid) ?? []),
          { pid: Number(entry), name: stat.name },
        ]);
    }
    const own = statOf(root)?.name;
    const byName: Record<string, number> = {};
    let sum = 0;
    let count = 0;
    for (let queue = [...(children.get(root) ?? [])]; queue.length; ) {
      const p = queue.pop()!;
      queue = queue.concat(children.get(p.pid) ?? []);
      // Forked and not yet exec'd into ffmpeg: its RSS is the server's own pages, shared, and would count twice.
      if (p.name === own) continue;
      const rss = rssOf(p.pid);
      byName[p.name] = (byName[p.name] ?? 0) + rss;
      sum += rss;
      count++;
    }
    samples.push({ server: rssOf(root), children: sum, tools: count, byName });
  };
  take();
  const timer = setInterval(take, 100);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

function statOf(pid: number): { ppid: number; name: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
    const close = stat.lastIndexOf(')');
    return {
      name: stat.slice(stat.indexOf('(') + 1, close),
      ppid: Number(stat.slice(close + 2).split(' ')[1]),
    };
  } catch {
    return null;
  }
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Where accepted bombs ended

/** Per kind, how its reports ended: "rejected EVIDENCE_UNREADABLE", "awaiting_review evidence_unreadable", …. */
async function settle(pool: Pool, reports: string[][], limitMs: number): Promise<Map<string, number>[]> {
  const all = reports.flat();
  const deadline = Date.now() + limitMs;
  let rows: { id: string; status: string; reason_code: string | null; findings: { type: string }[] }[] = [];
  for (;;) {
    ({ rows } = await pool.query(
      'select id, status, reason_code, findings from reports where id = any($1::uuid[])',
      [all],
    ));
    const waiting = rows.filter((r) => PIPELINE_WAITING.includes(r.status as never)).length;
    if (!waiting || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  return reports.map((ids) => {
    const out = new Map<string, number>();
    for (const id of ids) {
      const r = byId.get(id);
      const waiting = r && PIPELINE_WAITING.includes(r.status as never);
      const what = !r
        ? 'missing'
        : waiting
          ? `still ${r.status} after ${limitMs / 1000} s`
          : [r.status, r.reason_code, ...new Set(r.findings.map((f) => f.type))].filter(Boolean).join(' ');
      out.set(what, (out.get(what) ?? 0) + 1);
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------------

function report(
  o: HostileBenchOptions,
  r: {
    idle: { uploads: OpenLoopResult; reads: OpenLoopResult };
    hostile: { uploads: OpenLoopResult; reads: OpenLoopResult };
    idleSamples: RssSample[];
    hostileSamples: RssSample[];
    settleSamples: RssSample[];
    results: KindResult[];
    kinds: BombKind[];
    outcomes: Map<string, number>[];
    exited: string | null;
    lag: Record<'idle' | 'hostile', Lag | null>;
    /** One-minute load average before idle, after idle, after hostile (other work on the machine shows here). */
    load: number[];
    cores: Record<'idle' | 'hostile', Record<string, number>>;
  },
): void {
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const total = (s: RssSample) => s.server + s.children;
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const idleTotals = sorted(r.idleSamples.map(total));
  const baseline = quantile(idleTotals, 0.5);
  const peakOf = (samples: RssSample[]) =>
    samples.reduce((best, s) => (total(s) > total(best) ? s : best), samples[0]!);
  const peak = peakOf([...r.hostileSamples, ...r.settleSamples]);
  const maxOf = (samples: RssSample[], f: (s: RssSample) => number) => Math.max(...samples.map(f));
  const later = [...r.hostileSamples, ...r.settleSamples];

  console.log('');
  console.log(
    `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    `ordinary load: ${o.rate} uploads/s (distinct 1280×720 JPEGs) and ${o.reads} status reads/s, ${o.seconds} s per phase; ${o.bombs} uploaders per bomb kind; RATE_LIMIT_SUBMIT_PER_MINUTE ${o.submitLimit ?? 'lifted'}`,
  );
  console.log(
    `load average: ${r.load.map((l) => l.toFixed(2)).join(' → ')} (before idle, after idle, after hostile)`,
  );
  if (r.exited) console.log(`!! ${r.exited} during the run`);
  console.log('\nmemory of the server and its descendants (RSS sampled every 100 ms):');
  console.log(
    table(
      [
        'phase',
        'samples',
        'total p50 MB',
        'total max MB',
        'server max MB',
        'children max MB',
        'most children',
      ],
      (
        [
          ['idle', r.idleSamples],
          ['hostile', r.hostileSamples],
          ['settle', r.settleSamples],
        ] as const
      ).map(([name, s]) => [
        name,
        s.length,
        mb(quantile(sorted(s.map(total)), 0.5)),
        mb(maxOf(s, total)),
        mb(maxOf(s, (x) => x.server)),
        mb(maxOf(s, (x) => x.children)),
        maxOf(s, (x) => x.tools),
      ]),
    ),
  );
  const above = total(peak) - baseline;
  console.log(
    `peak above idle: ${mb(above)} MB (server ${mb(peak.server)} + children ${mb(peak.children)} at the peak, ` +
      `idle p50 ${mb(baseline)} MB; target < 1024 MB: ${above < 2 ** 30 ? 'met' : 'MISSED'}); ` +
      `largest later sample of the children alone ${mb(maxOf(later, (s) => s.children))} MB`,
  );
  const names = [...new Set(later.flatMap((s) => Object.keys(s.byName)))];
  console.log(
    `children's largest sample by command: ${names.map((n) => `${n} ${mb(maxOf(later, (s) => s.byName[n] ?? 0))} MB`).join(', ')}`,
  );
  const cores = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ');
  console.log(
    `cores busy (of ${os.cpus().length}): idle ${cores(r.cores.idle)}; hostile ${cores(r.cores.hostile)}`,
  );

  console.log('\nordinary traffic:');
  const row = (name: string, l: OpenLoopResult) => [
    name,
    l.sent,
    l.ok,
    l.errors,
    l.p50.toFixed(0),
    l.p95.toFixed(0),
    l.p99.toFixed(0),
    l.max.toFixed(0),
    l.errorSamples[0]?.slice(0, 60) ?? '',
  ];
  console.log(
    table(
      ['requests', 'sent', 'ok', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'first error'],
      [
        row('upload, idle', r.idle.uploads),
        row('upload, hostile', r.hostile.uploads),
        row('status read, idle', r.idle.reads),
        row('status read, hostile', r.hostile.reads),
      ],
    ),
  );
  const lagText = (l: Lag | null) =>
    l ? `p99 ${(l.p99 * 1000).toFixed(0)} ms, max ${(l.max * 1000).toFixed(0)} ms` : 'n/a';
  console.log(`server event-loop delay: idle ${lagText(r.lag.idle)}; hostile ${lagText(r.lag.hostile)}`);
  const ratio = r.hostile.uploads.p95 / Math.max(1, r.idle.uploads.p95);
  console.log(
    `upload p95 hostile / idle: ${ratio.toFixed(2)}× (target < 2×: ${ratio < 2 ? 'met' : 'MISSED'})`,
  );

  console.log(
    '\nbombs (each upload with fresh bytes, so none is answered from the content-addressed store):',
  );
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n}× ${k}`)
      .join(', ');
  console.log(
    table(
      ['kind', 'uploads', 'answers', 'p50 ms', 'slowest ms', 'reports filed', 'after the pipeline'],
      r.kinds.map((k, i) => {
        const res = r.results[i]!;
        const lat = sorted(res.latencies);
        const filing = res.fileErrors.size ? ` (filing refused: ${list(res.fileErrors)})` : '';
        return [
          k.name,
          lat.length,
          list(res.answers),
          quantile(lat, 0.5).toFixed(0),
          res.slowestMs.toFixed(0),
          res.reports.length,
          (list(r.outcomes[i]!) || '—') + filing,
        ];
      }),
    ),
  );
  for (const k of r.kinds) console.log(`  ${k.name}: ${k.what}`);
}
