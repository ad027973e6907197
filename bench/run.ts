import path from 'node:path';
import { analyzeBench } from './analyze.js';
import { autoscaleBench } from './autoscale.js';
import { forwardBench } from './forward.js';
import { hostileBench } from './hostile.js';
import { intakeBench } from './intake.js';
import { CLASSES, DEFAULT_MIX, parseMix } from './lib/mixed-requests.js';
import { mixedBench } from './mixed.js';
import { pipelineBench } from './pipeline.js';
import { SHAPES, type Shape, scaleBench } from './scale.js';
import { webBench } from './web.js';

const USAGE = `usage: npm run bench -- <benchmark> [options]

  intake [--rates 1000,2000,...] [--seconds 5] [--workers 0] [--citizens 1000]
      POST /v1/reports at constant arrival rates (open model) against \`jarima start\` on a fresh embedded
      PostgreSQL, beside the raw single-row INSERT commit rate of the same server.

  pipeline [--rate 50] [--seconds 20] [--burst 1000] [--workers validate:2,dedupe:1,enrich:1,analyze:2]
           [--warmup S]             (seconds at the rate before phase 1, not measured; 0 to measure a cold start)
           [--separate analyze:2]   (run these pools in a separate \`jarima worker\` process)
           [--uploads inline|before] (inline: each arrival uploads its photo, then submits; before: all photos
                                      are uploaded untimed first and arrivals only submit)
           [--statements]           (print PostgreSQL's costliest statements, from pg_stat_statements)
           [--autoscale]            (the autoscaler on, as \`jarima start\` runs: quiet stages in batches)
      real photos through validate → dedupe → enrich → analyze: 202→awaiting-review latency at a steady rate,
      then throughput on a burst, with the time spent before each stage.

  forward [--reports 1000] [--error-rates 0,0.05,0.3] [--outage 10] [--workers 2]
      approved reports forwarded to the registry simulator over HTTP at each injected error rate and through
      an outage: throughput, latency, retries, breaker openings, lost and doubled cases.

  mixed [--seconds 60] [--rate 300] [--spike 10] [--spike-seconds 10] [--warmup 3]
        [--mix status:40,list:15,stats:20,map:8,reference:7,queue:5,submit:5]
        [--citizens 2000] [--reports 30000] [--inspectors 20] [--connections 2000] [--seed 1] [--cache on,off]
        [--replay bench/data/nyc-collisions-2022-01.csv]
      the platform's traffic as an open model with Poisson arrivals: a day whose hourly shape is the event
      log's (events per hour of day, mean 1) compressed into --seconds at a mean of --rate requests/s, then
      --spike × that rate for --spike-seconds (shedding at its default thresholds). Classes: status = GET
      /v1/reports/:id by its owner (mostly their newest); list = GET /v1/me/reports; stats = /v1/stats/{summary,
      by-district,timeseries} over 8 query strings; map = GET /v1/map/reports over 9 boxes; reference = GET
      /v1/violation-types; queue = GET /v1/review/queue as one of the inspectors; submit = POST /v1/reports with
      fresh evidence of its own. On a fresh embedded PostgreSQL seeded with the citizens' reports over 30 days
      and their statistics roll-ups, with no pipeline workers. Per class and phase: achieved rate,
      p50/p95/p99/max, errors and shed 503s; cache hit rate per namespace; DB statement p95; CPU per request.
      Runs once per --cache value (off = CACHE_ENABLED=false) with the same schedule and requests, and compares
      them. --connections caps the client's connections: 2000 is one per simulated citizen; a few hundred is
      what a reverse proxy's upstream pool would open.

  analyze [--photos 200] [--width 640] [--height 480]
      one photo's analysis (decode, halving, measures, hash, thumbnail, storage) step by step on one thread.

  autoscale [--minutes 6] [--rate 20] [--spike 10] [--spike-seconds 20] [--burst 3000] [--seed 1]
      a real day's arrival curve compressed into minutes with a spike, run with the autoscaler and with fixed pools
      sized for the mean: queue-age p95 per stage, idle worker share, 202 → review p95; the forecaster on a held-out
      day; \`jarima capacity\`'s ceiling against a measured burst and a ramp of steady rates (the highest kept up with).

  hostile [--seconds 30] [--rate 4] [--reads 20] [--bombs 4] [--settle 120] [--kinds png-bomb,big-jpeg,...]
          [--submit-limit 30]      (keep the per-citizen upload limit; lifted by default)
      ordinary photo uploads and status reads, alone and then while --bombs citizens per kind upload hostile
      media in a loop (PNG and JPEG decompression bombs, a legal 49 MP photo, a 16000² video frame, 200 streams,
      3 h of video, an unsupported codec, random bytes after ftyp): RSS of the server and its ffmpeg/ffprobe
      children every 100 ms, upload p95 against idle, each kind's answers and slowest answer, and where the
      reports filed with accepted bombs ended after the pipeline (within --settle seconds).

  scale [--rate 20] [--seconds 30] [--warmup 5] [--shapes one-local,one-s3,cluster-s3]
      the pipeline's arrivals (upload a photo, file a report) through HAProxy to one \`jarima start\` on the local
      directory, the same on an S3-compatible store (s3rver), and two \`jarima api\` + two \`jarima worker\` with
      their own data directories sharing PostgreSQL, Redis and the store: throughput, 202 → review, CPU per report
      by part and the object store's share — the cost of statelessness on one machine.

  web [--runs 5]
      each main page of the web app in headless Chromium, cold: first paint, time until usable, bytes transferred,
      and the size of the JavaScript every page loads first.
`;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const [name, ...args] = process.argv.slice(2);
if (name === 'intake') {
  await intakeBench({
    rates: option(args, 'rates', '1000,2000,3000,4000,5000,6000,7000,8000').split(',').map(Number),
    seconds: Number(option(args, 'seconds', '5')),
    workers: Number(option(args, 'workers', '0')),
    citizens: Number(option(args, 'citizens', '1000')),
  });
} else if (name === 'pipeline') {
  await pipelineBench({
    rate: Number(option(args, 'rate', '50')),
    seconds: Number(option(args, 'seconds', '20')),
    warmup: Number(option(args, 'warmup', '10')),
    burst: Number(option(args, 'burst', '1000')),
    workers: option(args, 'workers', 'validate:2,dedupe:1,enrich:1,analyze:2'),
    separate: args.includes('--separate') ? option(args, 'separate', 'analyze:2') : null,
    statements: args.includes('--statements'),
    uploads: option(args, 'uploads', 'inline') === 'before' ? 'before' : 'inline',
    autoscale: args.includes('--autoscale'),
  });
} else if (name === 'forward') {
  await forwardBench({
    reports: Number(option(args, 'reports', '1000')),
    errorRates: option(args, 'error-rates', '0,0.05,0.3').split(',').map(Number),
    outageSeconds: Number(option(args, 'outage', '10')),
    workers: Number(option(args, 'workers', '2')),
  });
} else if (name === 'mixed') {
  await mixedBench({
    seconds: Number(option(args, 'seconds', '60')),
    rate: Number(option(args, 'rate', '300')),
    spike: Number(option(args, 'spike', '10')),
    spikeSeconds: Number(option(args, 'spike-seconds', '10')),
    warmup: Number(option(args, 'warmup', '3')),
    mix: parseMix(option(args, 'mix', CLASSES.map((c) => `${c}:${DEFAULT_MIX[c]}`).join(','))),
    citizens: Number(option(args, 'citizens', '2000')),
    reports: Number(option(args, 'reports', '30000')),
    inspectors: Number(option(args, 'inspectors', '20')),
    connections: Number(option(args, 'connections', '2000')),
    seed: Number(option(args, 'seed', '1')),
    cache: option(args, 'cache', 'on,off')
      .split(',')
      .map((c) => (c === 'off' ? 'off' : 'on')),
    // Relative to the repository, wherever the command runs.
    replay: path.resolve(
      import.meta.dirname,
      '..',
      option(args, 'replay', 'bench/data/nyc-collisions-2022-01.csv'),
    ),
  });
} else if (name === 'hostile') {
  await hostileBench({
    seconds: Number(option(args, 'seconds', '30')),
    rate: Number(option(args, 'rate', '4')),
    reads: Number(option(args, 'reads', '20')),
    bombs: Number(option(args, 'bombs', '4')),
    settle: Number(option(args, 'settle', '120')),
    kinds: args.includes('--kinds') ? option(args, 'kinds', '').split(',').filter(Boolean) : null,
    submitLimit: args.includes('--submit-limit') ? Number(option(args, 'submit-limit', '30')) : null,
  });
} else if (name === 'scale') {
  await scaleBench({
    rate: Number(option(args, 'rate', '20')),
    seconds: Number(option(args, 'seconds', '30')),
    warmup: Number(option(args, 'warmup', '5')),
    shapes: (option(args, 'shapes', SHAPES.join(',')).split(',') as Shape[]).filter((s) =>
      SHAPES.includes(s),
    ),
  });
} else if (name === 'web') {
  await webBench({ runs: Number(option(args, 'runs', '5')) });
} else if (name === 'autoscale') {
  await autoscaleBench({
    minutes: Number(option(args, 'minutes', '6')),
    rate: Number(option(args, 'rate', '20')),
    spike: Number(option(args, 'spike', '10')),
    spikeSeconds: Number(option(args, 'spike-seconds', '20')),
    burst: Number(option(args, 'burst', '3000')),
    seed: Number(option(args, 'seed', '1')),
  });
} else if (name === 'analyze') {
  await analyzeBench({
    photos: Number(option(args, 'photos', '200')),
    width: Number(option(args, 'width', '640')),
    height: Number(option(args, 'height', '480')),
  });
} else {
  console.log(USAGE);
  process.exitCode = name ? 2 : 0;
}
