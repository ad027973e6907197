/**
 * Writes docs/configuration.md from the config schema, so the reference cannot drift from what `loadConfig`
 * accepts, and deploy/prometheus/{rules,alertmanager}.yml from config/alerts.json. `npm run docs` runs it;
 * src/platform/config/config-docs.test.ts and src/ops/alerts/prometheus.test.ts fail when a committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { generatedPrometheusFiles, PROMETHEUS_DIR } from '../src/ops/alerts/prometheus.js';
import { ConfigSchema } from '../src/platform/config/config.js';

export const CONFIGURATION_DOC = path.resolve(import.meta.dirname, '..', 'docs', 'configuration.md');

/** A variable goes to the group with the longest prefix it starts with; one matching none goes to "Other". */
const GROUPS: [title: string, prefixes: string[]][] = [
  [
    'Server and database',
    [
      'DATABASE_URL',
      'DB_POOL_MAX',
      'JARIMA_DATA_DIR',
      'HOST',
      'LISTEN_BACKLOG',
      'PORT',
      'PUBLIC_URL',
      'TRUST_PROXY',
      'LOG_',
    ],
  ],
  ['Secrets and production', ['JARIMA_SECRET', 'NODE_ENV', 'JARIMA_ALLOW_SIMULATORS', 'METRICS_']],
  ['Evidence uploads', ['EVIDENCE_', 'DECODE_', 'MEDIA_', 'VIDEO_', 'UPLOADS_']],
  ['Evidence storage', ['BLOB_STORE', 'S3_']],
  ['Report intake', ['FILING_', 'FUTURE_', 'INTAKE_']],
  ['Automated checks', ['DEDUPE_', 'ANALYZE_', 'PHASH_', 'NEAR_IDENTICAL_']],
  ['Review and forwarding', ['REVIEW_', 'FORWARD_', 'NEEDS_INFO_']],
  ['Sign-in', ['OTP_', 'TOKEN_']],
  ['Pipeline workers and autoscaler', ['JARIMA_WORKERS', 'PIPELINE_', 'AUTOSCALE', 'WORKER_', 'SHUTDOWN_']],
  ['Redis and cache', ['REDIS_', 'CACHE_']],
  ['Rate limits and overload shedding', ['RATE_LIMIT_', 'SHED_']],
  ['Operations', ['ALERT', 'OPS_']],
  ['Fines registry', ['GOV_']],
  ['Notifications', ['SMS_', 'SMTP_', 'MAIL_', 'NOTIFY_']],
  ['Rewards and payouts', ['REWARD_', 'PAYOUT_']],
  ["Drivers' case view", ['FINE_']],
  ['Privacy and retention', ['RETENTION_']],
  ['Appeals', ['APPEAL_']],
];

type Setting = TSchema & {
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
  anyOf?: { const: unknown }[];
};

function groupOf(name: string): string {
  let best = { title: 'Other', length: 0 };
  for (const [title, prefixes] of GROUPS)
    for (const p of prefixes)
      if (name.startsWith(p) && p.length > best.length) best = { title, length: p.length };
  return best.title;
}

/** " (64 MiB)" after a setting that counts bytes, where a unit divides the value; otherwise nothing. */
function size(name: string, v: unknown): string {
  if (typeof v !== 'number' || !name.endsWith('_BYTES')) return '';
  if (v >= 1024 ** 3 && v % 1024 ** 3 === 0) return ` (${v / 1024 ** 3} GiB)`;
  if (v >= 1024 ** 2 && v % 1024 ** 2 === 0) return ` (${v / 1024 ** 2} MiB)`;
  return '';
}

function defaultOf(name: string, v: unknown): string {
  if (v === undefined) return '(unset)';
  return v === '' ? '(empty)' : `\`${v}\`${size(name, v)}`;
}

function allowed(name: string, s: Setting): string {
  if (s.anyOf) return s.anyOf.map((l) => `\`${l.const}\``).join(', ');
  if (s.type === 'boolean') return '`true`, `false`';
  if (s.type === 'integer' || s.type === 'number') {
    const low =
      s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : `${s.minimum}${size(name, s.minimum)}`;
    return `${s.type === 'integer' ? 'integer' : 'number'} ${low} … ${s.maximum}${size(name, s.maximum)}`;
  }
  const rules = [
    s.minLength && s.minLength > 1 && `at least ${s.minLength} characters`,
    // Short patterns say what they check; long ones are spelled out in the description.
    s.pattern && (s.pattern.length <= 24 ? `matches \`${s.pattern}\`` : 'see description'),
  ].filter(Boolean);
  return rules.length ? rules.join('; ') : 'text';
}

const cell = (text: string) => text.replaceAll('|', '\\|');
const width = (text: string) => [...text].length;

/** A Markdown table padded as `biome format` pads it, so `npm run lint` accepts the generated file. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i]!))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function configurationDoc(): string {
  const groups = new Map<string, string[][]>(GROUPS.map(([title]) => [title, []]));
  for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
    const s = schema as Setting;
    // `<stage>` in a description would be taken for an HTML tag.
    const meaning = (s.description ?? '').replaceAll('<', '\\<');
    const title = groupOf(name);
    if (!groups.has(title)) groups.set(title, []);
    groups.get(title)!.push([`\`${name}\``, defaultOf(name, s.default), allowed(name, s), meaning].map(cell));
  }
  const sections = [...groups]
    .filter(([, rows]) => rows.length)
    .map(([title, rows]) => `## ${title}\n\n${table(['variable', 'default', 'allowed', 'meaning'], rows)}\n`);
  return `# Configuration

<!-- Generated by \`npm run docs\` from ConfigSchema in src/platform/config/config.ts: edit the schema, not this file. -->

Every setting is an environment variable, read once at start-up by one schema (\`ConfigSchema\`). A wrong value stops
the process before it listens, with a message naming the variable (exit code 78). \`jarima config\` prints the same
list. Besides each variable's own rule: \`NODE_ENV=production\` requires \`JARIMA_SECRET\` and refuses the local
simulators (SMS, e-mail, registry, payouts) unless each is named in \`JARIMA_ALLOW_SIMULATORS\` (\`true\` = all);
\`GOV_REGISTRY_URL\` requires \`GOV_REGISTRY_API_KEY\` and \`GOV_WEBHOOK_SECRET\`; \`SMS_GATEWAY_URL\` requires
\`SMS_GATEWAY_API_KEY\`; \`PAYOUT_PROVIDER_URL\`, \`PAYOUT_PROVIDER_API_KEY\` and \`PAYOUT_WEBHOOK_SECRET\` go together.

${sections.join('\n')}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIGURATION_DOC, configurationDoc());
  console.log(`wrote ${path.relative(process.cwd(), CONFIGURATION_DOC)}`);
  for (const [name, text] of Object.entries(generatedPrometheusFiles())) {
    writeFileSync(path.join(PROMETHEUS_DIR, name), text);
    console.log(`wrote ${path.relative(process.cwd(), path.join(PROMETHEUS_DIR, name))}`);
  }
}
