import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GOV_REGISTRY_CONFIG } from '../../integrations/gov-registry/config.js';
import { parseWorkerPools } from '../../pipeline/pools.js';

const Int = (def: number, min: number, max: number, description: string) =>
  T.Integer({ default: def, minimum: min, maximum: max, description });

/**
 * Every setting, read from the environment. This schema is the single source: defaults, validation, the `Config`
 * type, docs/configuration.md (`npm run docs`) and `jarima config` all come from it.
 */
export const ConfigSchema = T.Object({
  DATABASE_URL: T.Optional(
    T.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL URL; unset = embedded PostgreSQL under JARIMA_DATA_DIR',
    }),
  ),
  JARIMA_DATA_DIR: T.String({
    default: '.jarima',
    minLength: 1,
    description: 'Embedded database, evidence blobs, generated secret',
  }),
  BLOB_STORE: T.Union([T.Literal('local'), T.Literal('s3')], {
    default: 'local',
    description:
      "Where evidence bytes are kept: 'local' = JARIMA_DATA_DIR/blobs, 's3' = the S3-compatible bucket S3_BUCKET (several machines)",
  }),
  S3_BUCKET: T.Optional(
    T.String({ minLength: 3, description: 'Bucket of the evidence blobs; required with BLOB_STORE=s3' }),
  ),
  S3_ENDPOINT: T.Optional(
    T.String({
      pattern: '^https?://',
      description: 'S3 endpoint URL for MinIO and other compatibles; unset = AWS',
    }),
  ),
  S3_REGION: T.String({ default: 'us-east-1', minLength: 1, description: 'S3 region of the bucket' }),
  S3_FORCE_PATH_STYLE: T.Boolean({
    default: false,
    description:
      'Address the bucket as ENDPOINT/BUCKET/key rather than BUCKET.ENDPOINT/key (MinIO wants true)',
  }),
  S3_PREFIX: T.String({
    default: '',
    pattern: '^([^/].*/)?$',
    description: 'Put before every key (e.g. jarima/), so one bucket can hold several deployments',
  }),
  S3_ACCESS_KEY_ID: T.Optional(
    T.String({ minLength: 1, description: 'S3 access key; unset = the AWS SDK’s default credential chain' }),
  ),
  S3_SECRET_ACCESS_KEY: T.Optional(
    T.String({ minLength: 1, description: 'S3 secret key; required with S3_ACCESS_KEY_ID' }),
  ),
  HOST: T.String({ default: '127.0.0.1', minLength: 1, description: 'Interface the HTTP server listens on' }),
  LISTEN_BACKLOG: Int(
    4096,
    1,
    65_535,
    'Connections the kernel queues for the HTTP server before refusing (capped by net.core.somaxconn)',
  ),
  PORT: Int(3000, 0, 65535, 'HTTP port (0 = any free port)'),
  PUBLIC_URL: T.Optional(
    T.String({ pattern: '^https?://', description: 'Base URL used in links; default http://HOST:PORT' }),
  ),
  JARIMA_SECRET: T.Optional(
    T.String({
      minLength: 32,
      description: 'Signs tokens and keys phone hashes; unset = generated once into JARIMA_DATA_DIR/secret',
    }),
  ),
  LOG_LEVEL: T.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  TRUST_PROXY: T.String({
    default: '',
    description: 'Comma-separated proxy addresses/CIDRs whose X-Forwarded-For is trusted',
  }),
  DB_POOL_MAX: Int(40, 2, 500, 'Connections in the API/worker pool'),
  EVIDENCE_MAX_BYTES: Int(200 * 1024 * 1024, 1024, 10 * 1024 * 1024 * 1024, 'Largest accepted evidence file'),
  EVIDENCE_MEMORY_PER_UPLOAD_BYTES: Int(
    8 * 1024 * 1024,
    0,
    1024 * 1024 * 1024,
    'An upload up to this size is kept in memory until stored (a photo is then probed and analysed from memory)',
  ),
  EVIDENCE_MEMORY_BUDGET_BYTES: Int(
    64 * 1024 * 1024,
    0,
    16 * 1024 * 1024 * 1024,
    'All uploads kept in memory at once stay under this; others go to a temporary file as they arrive',
  ),
  EVIDENCE_MAX_PIXELS: Int(
    50_000_000,
    1_000_000,
    268_402_689,
    'Largest photo accepted, in pixels, read from its header before any decoding (a 12-megapixel phone photo is 12,000,000)',
  ),
  EVIDENCE_MAX_INTERLACED_PIXELS: Int(
    12_000_000,
    0,
    268_402_689,
    'Largest interlaced PNG accepted, in pixels: one must be decoded whole in memory, so a large one is refused',
  ),
  DECODE_CONCURRENCY: Int(2, 1, 64, 'Photos decoded at once per process; the rest wait their turn'),
  DECODE_LARGE_PIXELS: Int(
    16_000_000,
    1_000_000,
    268_402_689,
    'A photo over this many pixels is measured by the pipeline, one at a time per process, never in the upload request',
  ),
  DECODE_QUEUE_TIMEOUT_MS: Int(
    5000,
    0,
    600_000,
    'An upload waits this long for a decoding slot, then answers and leaves the picture measures to the pipeline',
  ),
  MEDIA_TOOLS: T.Union([T.Literal('auto'), T.Literal('system'), T.Literal('bundled')], {
    default: 'auto',
    description:
      "ffmpeg/ffprobe: 'system' = the host's (apt-get install ffmpeg; security updates), 'bundled' = the npm 2018 build, 'auto' = system when on PATH; production refuses an automatic fall-back to bundled",
  }),
  MEDIA_TOOL_CONCURRENCY: Int(2, 1, 64, 'ffmpeg/ffprobe runs at once per process; the rest wait their turn'),
  MEDIA_TOOL_MEMORY_MB: Int(768, 256, 65_536, 'Address-space limit of each ffmpeg/ffprobe run, MiB'),
  MEDIA_TOOL_TIMEOUT_SECONDS: Int(30, 1, 3600, 'Wall-clock limit of each ffmpeg/ffprobe run'),
  VIDEO_MAX_SIDE: Int(4096, 320, 16_384, 'Longest side of a video accepted, pixels (4K is 3840)'),
  VIDEO_MAX_SECONDS: Int(300, 1, 86_400, 'Longest video accepted, seconds'),
  VIDEO_MAX_STREAMS: Int(
    8,
    1,
    1000,
    'Most streams in one video file (a phone writes video, audio and a few metadata tracks)',
  ),
  EVIDENCE_DAILY_BYTES_PER_CITIZEN: Int(
    2 * 1024 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024 * 1024,
    'Evidence bytes one citizen may upload in 24 hours, open resumable uploads counted at their declared size',
  ),
  UPLOADS_OPEN_PER_CITIZEN: Int(4, 1, 1000, 'Resumable uploads one citizen may have open at once'),
  EVIDENCE_UNFILED_HOURS: Int(
    24,
    1,
    24 * 365,
    'Evidence no report refers to this long after its upload is deleted, with its poster frame and thumbnail',
  ),
  RETENTION_OTP_DAYS: Int(
    7,
    1,
    3650,
    'One-time sign-in codes, with the address they were asked from, are deleted after this many days',
  ),
  RETENTION_ADDRESS_DAYS: Int(
    30,
    1,
    3650,
    "Client addresses (sessions' IP and user agent, failed sign-in counters) are erased after this many days unused",
  ),
  RETENTION_REJECTED_MEDIA_DAYS: Int(
    90,
    1,
    3650,
    'Evidence of rejected, duplicate and withdrawn reports is deleted this many days after the report closed',
  ),
  RETENTION_EVERY_HOURS: Int(
    24,
    1,
    24 * 7,
    'How often the retention run (docs/privacy.md) purges what is due',
  ),
  RATE_LIMIT_EXPORTS_PER_HOUR: Int(3, 1, 1000, 'Data exports (GET /v1/me/export) per hour per citizen'),
  FILING_WINDOW_HOURS: Int(72, 1, 24 * 365, 'A report must be filed within this many hours of the incident'),
  FUTURE_SKEW_SECONDS: Int(120, 0, 3600, 'Tolerance for a phone clock ahead of ours'),
  DEDUPE_DISTANCE_METERS: Int(
    150,
    1,
    10_000,
    'Same plate and violation closer than this is a duplicate report',
  ),
  DEDUPE_WINDOW_MINUTES: Int(10, 1, 24 * 60, '…and closer in time than this'),
  FORWARD_DEADLINE_HOURS: Int(
    48,
    1,
    24 * 30,
    'A camera-recorded violation must reach the registry within this many hours of the incident',
  ),
  REVIEW_SLA_HOURS: Int(
    24,
    1,
    24 * 30,
    'A report must be reviewed within this many hours of entering the review queue (review_due_at)',
  ),
  NEEDS_INFO_EXPIRE_HOURS: Int(
    72,
    1,
    24 * 30,
    'A report whose inspector asked for more information is rejected (INFO_NOT_PROVIDED) if the citizen has not answered within this many hours',
  ),
  REVIEW_ESCALATE_HOURS: Int(
    6,
    0,
    24 * 30,
    'Reports this close to their review or legal deadline rise to the top of the queue (0: never)',
  ),
  REVIEW_LEASE_MINUTES: Int(
    10,
    1,
    240,
    'How long an inspector holds a claimed report before it returns to the queue',
  ),
  ANALYZE_TIME_TOLERANCE_MINUTES: Int(
    15,
    1,
    24 * 60,
    'Camera time further than this from the claimed time is a finding',
  ),
  ANALYZE_DISTANCE_TOLERANCE_METERS: Int(
    300,
    10,
    100_000,
    'Camera GPS further than this from the claimed place is a finding',
  ),
  PHASH_MAX_DISTANCE: Int(
    6,
    0,
    32,
    'Perceptual-hash Hamming distance at or under which two images are near-identical',
  ),
  NEAR_IDENTICAL_METERS: Int(
    300,
    10,
    10_000,
    'Near-identical images are looked for in other citizens’ reports claimed within this distance…',
  ),
  NEAR_IDENTICAL_MINUTES: Int(60, 1, 7 * 24 * 60, '…and within this many minutes of the incident'),
  NEAR_IDENTICAL_OWN_DAYS: Int(
    7,
    0,
    365,
    'Near-identical images are looked for in all the citizen’s own reports filed in this many days, wherever claimed',
  ),
  OTP_TTL_SECONDS: Int(300, 30, 3600, 'Lifetime of a one-time sign-in code'),
  OTP_MAX_ATTEMPTS: Int(5, 1, 20, 'Wrong guesses allowed per code'),
  OTP_RESEND_SECONDS: Int(30, 0, 3600, 'Minimum gap between codes to one phone'),
  OTP_MAX_PER_HOUR: Int(5, 1, 100, 'Codes sent to one phone per hour'),
  ACCESS_TOKEN_TTL_SECONDS: Int(
    900,
    60,
    900,
    'Lifetime of an access token; the client refreshes it with its refresh token',
  ),
  SESSION_TTL_HOURS_STAFF: Int(
    12,
    1,
    24 * 7,
    'Absolute lifetime of a staff session (a shift); refresh never extends it',
  ),
  SESSION_TTL_DAYS_CITIZEN: Int(30, 1, 365, 'Absolute lifetime of a citizen’s session on a device'),
  SIGN_IN_FREE_FAILURES: Int(3, 0, 100, 'Failed staff sign-ins per login answered without delay'),
  SIGN_IN_LOCK_FAILURES: Int(10, 1, 1000, 'Failed staff sign-ins per login that lock it out'),
  SIGN_IN_LOCK_MINUTES: Int(
    15,
    1,
    24 * 60,
    'How long a locked-out login stays locked (and failures are remembered)',
  ),
  SIGN_IN_MAX_DELAY_MS: Int(
    30_000,
    0,
    300_000,
    'Cap on the progressive delay (1 s, 2 s, 4 s …) before answering a login with failures past the free ones',
  ),
  TOTP_REQUIRED_ROLES: T.String({
    default: 'admin,supervisor',
    pattern: '^\\s*(none|(inspector|supervisor|admin)\\s*(,\\s*(inspector|supervisor|admin)\\s*)*)\\s*$',
    description: 'Staff roles that must use two-factor sign-in (comma list; "none" = no role)',
  }),
  PASSWORD_LINK_TTL_HOURS: Int(72, 1, 24 * 30, 'Lifetime of a set-password link'),
  RATE_LIMIT_AUTH_PER_MINUTE: Int(20, 1, 100000, 'Sign-in requests per minute per client address'),
  RATE_LIMIT_SUBMIT_PER_MINUTE: Int(30, 1, 1000000, 'Report submissions and uploads per minute per citizen'),
  JARIMA_WORKERS: T.String({
    default: 'validate:2,dedupe:1,enrich:1,analyze:2,forward:1,notify:2,payout:1',
    pattern: '^(none|\\s*|(\\s*[a-z_]+\\s*:\\s*\\d{1,3}\\s*)(,\\s*[a-z_]+\\s*:\\s*\\d{1,3}\\s*)*)$',
    description: 'Pipeline worker pools in this process, <stage>:<size>,… ("none" = no workers)',
  }),
  PIPELINE_LINGER_MS: Int(
    250,
    0,
    10_000,
    'A stage’s sweep stays on duty this long after its queue empties, claiming arrivals without a job each (0: off)',
  ),
  ALERTS_ENABLED: T.Boolean({
    default: true,
    description: 'Evaluate the alert rules in this process (run them in one API process per deployment)',
  }),
  ALERT_RULES_FILE: T.String({
    default: 'config/alerts.json',
    minLength: 1,
    description: 'Alert rules (JSON; see config/alerts.json), relative to the installation directory',
  }),
  OPS_POINT_SECONDS: Int(
    60,
    1,
    3600,
    'Length of one point of the operator series (GET /v1/ops/overview) and of one capacity measurement',
  ),
  AUTOSCALE: T.Boolean({
    default: true,
    description:
      'Let the autoscaler resize this process’s pipeline pools (JARIMA_WORKERS gives the starting sizes)',
  }),
  AUTOSCALE_INTERVAL_SECONDS: Int(10, 1, 600, 'How often the autoscaler decides'),
  AUTOSCALE_TARGET_AGE_SECONDS: T.String({
    default: 'validate:5,dedupe:5,enrich:5,analyze:10,forward:60,notify:30,payout:600',
    pattern: '^(\\s*[a-z_]+\\s*:\\s*\\d{1,3}\\s*)(,\\s*[a-z_]+\\s*:\\s*\\d{1,3}\\s*)*$',
    description: 'Queue age each stage should stay under, <stage>:<seconds>,…',
  }),
  AUTOSCALE_MAX_WORKERS: Int(16, 1, 256, 'Most workers the autoscaler gives one stage in one process'),
  AUTOSCALE_UTILISATION: T.Number({
    default: 0.85,
    exclusiveMinimum: 0,
    maximum: 0.95,
    description: 'Worker utilisation the autoscaler sizes for (headroom for bursts)',
  }),
  AUTOSCALE_DOWN_AFTER: Int(6, 1, 1000, 'Decisions in a row a lower need must last before a pool shrinks'),
  AUTOSCALE_BATCH_HOLD_SHARE: T.Number({
    default: 0.01,
    minimum: 0,
    maximum: 0.9,
    description:
      'With AUTOSCALE, below 4 workers’ load, run an automated stage in batches whose workers exist only while one runs, a report waiting up to this share of its target queue age for its batch (0: a standing worker per stage)',
  }),
  NODE_ENV: T.String({
    default: 'development',
    description: "'production' requires JARIMA_SECRET and refuses simulators",
  }),
  JARIMA_ALLOW_SIMULATORS: T.String({
    default: '',
    pattern: '^\\s*(true|false|((sms|email|registry|payouts)(\\s*,\\s*(sms|email|registry|payouts))*))?\\s*$',
    description:
      'Local simulators allowed when NODE_ENV=production: a comma list of sms, email, registry, payouts (true = all); their /v1/dev routes then need an admin',
  }),
  WORKER_DEAD_AFTER_SECONDS: Int(
    30,
    1,
    3600,
    'A worker silent this long is dead: its locked jobs are unlocked to run again',
  ),
  SHUTDOWN_TIMEOUT_SECONDS: Int(
    30,
    1,
    3600,
    'On SIGTERM, running jobs get this long to finish before they are failed back to the queue',
  ),
  INTAKE_BATCH_MAX: Int(256, 1, 5000, 'Most submissions committed in one group-commit transaction'),
  INTAKE_FLUSHERS: Int(
    2,
    1,
    64,
    'Group-commit transactions in flight at once (a second starts only when 64+ submissions wait)',
  ),
  REDIS_URL: T.Optional(
    T.String({
      pattern: '^rediss?://',
      description:
        'Redis for state shared by several processes (rate-limit counters, cache L2 and bus); unset = per process',
    }),
  ),
  METRICS_PORT: T.Optional(
    T.Integer({
      minimum: 0,
      maximum: 65535,
      description:
        '`jarima worker` only: serve /healthz, /readyz and /metrics on this port (0 = any free one); unset = a worker listens on nothing',
    }),
  ),
  METRICS_TOKEN: T.Optional(
    T.String({
      minLength: 16,
      description:
        'Bearer token GET /metrics requires (Prometheus `authorization`); unset = open, for a private network',
    }),
  ),
  CACHE_ENABLED: T.Boolean({
    default: true,
    description:
      'false sends every cached read (statuses, lists, statistics, reference data) to the database — for comparison',
  }),
  CACHE_MEMORY_MB: Int(256, 8, 65_536, 'Most memory the in-process cache tier holds before evicting'),
  REDIS_PREFIX: T.String({
    default: 'jarima:',
    minLength: 1,
    description: 'Prefix of every Redis key Jarima writes',
  }),
  RATE_LIMIT_PUBLIC_PER_MINUTE: Int(
    600,
    1,
    1_000_000,
    'Public statistics, map and open-data requests per minute per client address',
  ),
  RATE_LIMIT_FINE_LOOKUP_PER_MINUTE: Int(
    10,
    1,
    100_000,
    "Drivers' case look-ups (plate and ruling number) per minute per client address",
  ),
  RATE_LIMIT_FINE_LOOKUP_PER_PLATE_PER_HOUR: Int(
    20,
    1,
    100_000,
    'Case look-ups per hour for one plate, from any address (guessing ruling numbers for a known car)',
  ),
  FINE_PAYMENT_DAYS: Int(
    30,
    1,
    365,
    "Days from the ruling to the fine's payment deadline shown to the driver",
  ),
  APPEAL_WINDOW_DAYS: Int(10, 1, 365, 'Days after the ruling within which the driver may appeal it'),
  APPEAL_SLA_HOURS: Int(72, 1, 2160, 'Hours from filing within which supervisors should decide an appeal'),
  APPEAL_LEASE_MINUTES: Int(
    30,
    1,
    480,
    'How long a supervisor holds a taken appeal before it returns to the queue',
  ),
  APPEAL_UPLOAD_BYTES_PER_CASE: Int(
    200 * 1024 * 1024,
    1024 * 1024,
    10 * 1024 * 1024 * 1024,
    'Bytes of attachments a driver may upload for one case in 24 hours',
  ),
  APPEAL_RATE_LIMIT_PER_MINUTE: Int(
    10,
    1,
    100_000,
    "Drivers' appeal requests (codes, uploads, filing) per minute per client address",
  ),
  APPEAL_REGISTRY_LEASE_SECONDS: Int(
    120,
    10,
    3600,
    'How long a sender holds a decision it is delivering to the registry; a lapsed one is sent again (same key)',
  ),
  SHED_PUBLIC_DELAY_MS: Int(
    100,
    0,
    60_000,
    'Event-loop delay (ms) from which public statistics and map reads get 503 (0 = never)',
  ),
  SHED_PUBLIC_UTILISATION: T.Number({
    default: 0.95,
    minimum: 0,
    maximum: 1,
    description:
      'Event-loop utilisation (0–1) from which public statistics and map reads get 503 (0 = never)',
  }),
  SHED_READS_DELAY_MS: Int(300, 0, 60_000, '…from which status and list reads get 503 (0 = never)'),
  SHED_WRITES_DELAY_MS: Int(2000, 0, 60_000, '…from which submissions and uploads get 503 (0 = never)'),
  SHED_SUSTAIN_MS: Int(
    3000,
    0,
    600_000,
    'How long (ms) every event-loop sample must stay over a class’s threshold before that class gets 503; a ' +
      'shorter spike (start-up, a first page load) refuses nothing (0 = decide on the latest sample alone)',
  ),
  ...GOV_REGISTRY_CONFIG,
  SMS_GATEWAY_URL: T.Optional(
    T.String({ pattern: '^https?://', description: 'SMS gateway base URL; unset = the local SMS simulator' }),
  ),
  SMS_GATEWAY_API_KEY: T.Optional(T.String({ minLength: 1, description: 'Bearer key for the SMS gateway' })),
  SMS_GATEWAY_TIMEOUT_MS: Int(5000, 100, 120_000, 'Per SMS gateway request'),
  SMTP_URL: T.Optional(
    T.String({
      pattern: '^smtps?://',
      description: 'smtp://user:pass@host:587 for e-mail; unset = an in-memory outbox (/v1/dev/email-outbox)',
    }),
  ),
  MAIL_FROM: T.String({
    default: 'Jarima <no-reply@jarima.uz>',
    minLength: 3,
    description: 'Sender of e-mails',
  }),
  NOTIFY_MAX_ATTEMPTS: Int(8, 1, 100, 'Tries per notification before it is marked failed'),
  PAYOUT_PROVIDER_URL: T.Optional(
    T.String({
      pattern: '^https?://',
      description:
        'Payment provider base URL (src/integrations/payments/README.md); unset = the local payout simulator',
    }),
  ),
  PAYOUT_PROVIDER_API_KEY: T.Optional(
    T.String({
      minLength: 1,
      description: 'Bearer key for the payment provider; required with PAYOUT_PROVIDER_URL',
    }),
  ),
  PAYOUT_WEBHOOK_SECRET: T.Optional(
    T.String({
      pattern: '^[^,\\s]{24,}(,\\s*[^,\\s]{24,})*$',
      description:
        'Verifies the provider’s settled/failed callbacks (whsec_… or 24+ chars; comma-separated during a rotation); required with PAYOUT_PROVIDER_URL',
    }),
  ),
  PAYOUT_PROVIDER_TIMEOUT_MS: Int(5000, 100, 120_000, 'Per payment provider attempt, aborting the request'),
  PAYOUT_LEASE_SECONDS: Int(
    120,
    10,
    3600,
    'How long a payout sweep holds a claimed payout; a lapsed lease is claimed again (same idempotency key)',
  ),
  REWARD_POLICY: T.Union([T.Literal('bhm_share'), T.Literal('fine_percent')], {
    default: 'bhm_share',
    description:
      'bhm_share: REWARD_BHM_SHARE × the BHM on the payment date; fine_percent: REWARD_FINE_PERCENT of the fine paid',
  }),
  REWARD_BHM_SHARE: T.Number({
    default: 0.1,
    minimum: 0,
    maximum: 100,
    description: 'Reward as a multiple of the BHM (bhm_share policy)',
  }),
  REWARD_FINE_PERCENT: T.Number({
    default: 10,
    minimum: 0,
    maximum: 100,
    description: 'Reward as a percentage of the fine paid (fine_percent policy)',
  }),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from `env`; a wrong value throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw));
  const problems = [...Value.Errors(ConfigSchema, value)].map((e) => ({
    variable: e.path.replace(/^\//, '') || '(config)',
    message: `${e.message} (got ${JSON.stringify(raw[e.path.replace(/^\//, '')] ?? null)})`,
  }));
  if (problems.length) throw new ConfigError(dedupeByVariable(problems));
  const config = value as Config;
  for (const variable of ['JARIMA_WORKERS', 'AUTOSCALE_TARGET_AGE_SECONDS'] as const) {
    try {
      parseWorkerPools(config[variable], variable);
    } catch (err) {
      throw new ConfigError([{ variable, message: (err as Error).message.replace(`${variable}: `, '') }]);
    }
  }
  if (config.NODE_ENV === 'production') {
    if (!config.JARIMA_SECRET)
      problems.push({ variable: 'JARIMA_SECRET', message: 'required when NODE_ENV=production' });
    const allowed = allowedSimulators(config);
    const refused = runningSimulators(config).filter((s) => !allowed.has(s));
    if (refused.length) {
      problems.push({
        variable: 'JARIMA_ALLOW_SIMULATORS',
        message: `without ${refused.map((s) => SIMULATOR_SETTING[s]).join(', ')} the local ${refused.join(', ')} simulator${refused.length > 1 ? 's' : ''} would run (the SMS and e-mail ones publish sign-in codes and citizens' messages, the payout one pays nobody); configure the real ones, or for a demo only set JARIMA_ALLOW_SIMULATORS=${refused.join(',')}`,
      });
    }
    if (problems.length) throw new ConfigError(problems);
  }
  const pairs: [keyof Config, keyof Config][] = [
    ['GOV_REGISTRY_URL', 'GOV_REGISTRY_API_KEY'],
    ['GOV_REGISTRY_URL', 'GOV_WEBHOOK_SECRET'],
    ['SMS_GATEWAY_URL', 'SMS_GATEWAY_API_KEY'],
    ['PAYOUT_PROVIDER_URL', 'PAYOUT_PROVIDER_API_KEY'],
    ['PAYOUT_PROVIDER_URL', 'PAYOUT_WEBHOOK_SECRET'],
    ['PAYOUT_PROVIDER_API_KEY', 'PAYOUT_PROVIDER_URL'],
    ['PAYOUT_WEBHOOK_SECRET', 'PAYOUT_PROVIDER_URL'],
    ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
    ['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID'],
  ];
  for (const [url, needed] of pairs) {
    if (config[url] && !config[needed]) problems.push({ variable: needed, message: `required with ${url}` });
  }
  if (config.BLOB_STORE === 's3' && !config.S3_BUCKET)
    problems.push({ variable: 'S3_BUCKET', message: 'required with BLOB_STORE=s3' });
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The ports that have a local simulator, and the setting whose absence starts it. */
export const SIMULATOR_SETTING = {
  sms: 'SMS_GATEWAY_URL',
  email: 'SMTP_URL',
  registry: 'GOV_REGISTRY_URL',
  payouts: 'PAYOUT_PROVIDER_URL',
} as const satisfies Record<string, keyof Config>;
export type Simulator = keyof typeof SIMULATOR_SETTING;

/** The simulators this configuration runs: each port whose real system is not configured. */
export function runningSimulators(config: Pick<Config, (typeof SIMULATOR_SETTING)[Simulator]>): Simulator[] {
  return (Object.keys(SIMULATOR_SETTING) as Simulator[]).filter((s) => !config[SIMULATOR_SETTING[s]]);
}

/** JARIMA_ALLOW_SIMULATORS as a set; `true` (the boolean it once was) means every simulator. */
export function allowedSimulators(config: Pick<Config, 'JARIMA_ALLOW_SIMULATORS'>): Set<Simulator> {
  const v = config.JARIMA_ALLOW_SIMULATORS.trim();
  if (v === 'true') return new Set(Object.keys(SIMULATOR_SETTING) as Simulator[]);
  if (v === 'false' || v === '') return new Set();
  return new Set(v.split(',').map((s) => s.trim() as Simulator));
}

/**
 * Who may read a simulator's /v1/dev routes: anyone in development (that is what they are for), only an admin in
 * production, where the simulator was opted into and what it "sent" is real citizens' data.
 */
export function devRoutesNeedAdmin(config: Pick<Config, 'NODE_ENV'>): boolean {
  return config.NODE_ENV === 'production';
}

function dedupeByVariable<T extends { variable: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.variable) && seen.add(i.variable));
}

/** Lines for the README and `jarima help config`. */
export function describeConfig(): string[] {
  return Object.entries(ConfigSchema.properties).map(([k, s]) => {
    const schema = s as { default?: unknown; description?: string };
    const def = schema.default === undefined ? '(unset)' : JSON.stringify(schema.default);
    return `${k} = ${def} — ${schema.description ?? ''}`;
  });
}
