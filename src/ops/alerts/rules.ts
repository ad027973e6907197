import { readFile } from 'node:fs/promises';
import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Condition, parseCondition, parseDuration } from './expr.js';
import { SEVERITIES, type Severity } from './severities.js';

export { SEVERITIES, type Severity };

const Duration = (def: string, description: string) =>
  T.String({
    pattern: '^\\d+(ms|s|m|h|d)$',
    default: def,
    description: `${description} (e.g. 30s, 10m, 4h)`,
  });

export const SINK_NAMES = ['log', 'webhook', 'email'] as const;
export type SinkName = (typeof SINK_NAMES)[number];

export const AlertRuleSchema = T.Object(
  {
    name: T.String({
      pattern: '^[A-Za-z][A-Za-z0-9_]*$',
      maxLength: 100,
      description: 'Unique, e.g. ForwardQueueStuck',
    }),
    expr: T.String({
      minLength: 1,
      maxLength: 2000,
      description: 'A comparison over the metrics (see expr.ts)',
    }),
    for: Duration('0s', 'How long the condition must hold before the alert fires'),
    severity: T.Union(
      SEVERITIES.map((s) => T.Literal(s)),
      { description: 'critical, warning or info' },
    ),
    summary: T.String({
      minLength: 1,
      maxLength: 500,
      description: 'One line for people; {{value}} and {{<label>}} are filled in',
    }),
    sinks: T.Array(T.Union(SINK_NAMES.map((s) => T.Literal(s))), {
      minItems: 1,
      uniqueItems: true,
      description: 'Where its firing and resolved notices go',
    }),
  },
  { additionalProperties: false },
);

export const AlertFileSchema = T.Object(
  {
    evaluationInterval: Duration('15s', 'How often the rules are evaluated'),
    repeatInterval: Duration('4h', 'A still-firing alert is notified again after this long; 0s = never'),
    rules: T.Array(AlertRuleSchema),
    sinks: T.Object(
      {
        webhook: T.Optional(
          T.Object(
            {
              url: T.String({ pattern: '^https?://', description: 'Receives a JSON POST per notice' }),
              timeoutMs: T.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
              attempts: T.Integer({ minimum: 1, maximum: 10, default: 4 }),
            },
            { additionalProperties: false },
          ),
        ),
        email: T.Optional(
          T.Object(
            { to: T.Array(T.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }), { minItems: 1 }) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type AlertFile = Static<typeof AlertFileSchema>;
export type SinksConfig = AlertFile['sinks'];

/** A rule ready to evaluate: its expression parsed and its durations in milliseconds. */
export interface AlertRule {
  name: string;
  expr: string;
  condition: Condition;
  forMs: number;
  severity: Severity;
  summary: string;
  sinks: SinkName[];
}

export interface AlertConfig {
  rules: AlertRule[];
  sinks: SinksConfig;
  evaluationIntervalMs: number;
  /** 0 = never remind. */
  repeatIntervalMs: number;
}

export class AlertRulesError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid alert rules in ${source}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AlertRulesError';
  }
}

/** Reads and checks a rules file (JSON); anything wrong throws AlertRulesError naming the rule and the field. */
export async function loadAlertRules(file: string): Promise<AlertConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new AlertRulesError(file, [(err as Error).message]);
  }
  return parseAlertRules(raw, file);
}

export function parseAlertRules(raw: unknown, source = 'alert rules'): AlertConfig {
  const file = Value.Default(AlertFileSchema, structuredClone(raw));
  const schemaProblems = [...Value.Errors(AlertFileSchema, file)].map(
    (e) => `${where(e.path, raw)}: ${e.message}`,
  );
  if (schemaProblems.length) throw new AlertRulesError(source, dedupe(schemaProblems));
  const valid = file as AlertFile;

  const problems: string[] = [];
  const names = new Set<string>();
  const rules: AlertRule[] = [];
  for (const r of valid.rules) {
    const at = `rule "${r.name}"`;
    if (names.has(r.name)) problems.push(`${at} field "name": another rule has this name`);
    names.add(r.name);
    for (const s of r.sinks) {
      if (s !== 'log' && !valid.sinks[s])
        problems.push(`${at} field "sinks": "${s}" needs a sinks.${s} section`);
    }
    try {
      rules.push({
        name: r.name,
        expr: r.expr,
        condition: parseCondition(r.expr),
        forMs: parseDuration(r.for),
        severity: r.severity,
        summary: r.summary,
        sinks: r.sinks,
      });
    } catch (err) {
      problems.push(`${at} field "expr": ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new AlertRulesError(source, problems);
  return {
    rules,
    sinks: valid.sinks,
    evaluationIntervalMs: parseDuration(valid.evaluationInterval),
    repeatIntervalMs: parseDuration(valid.repeatInterval),
  };
}

/** "/rules/2/for" → 'rule "ForwardQueueStuck" field "for"' (or "rule #3" when it has no usable name). */
function where(path: string, raw: unknown): string {
  const m = /^\/rules\/(\d+)(?:\/(.+))?$/.exec(path);
  if (!m) return `field "${path.slice(1).replace(/\//g, '.') || '(file)'}"`;
  const index = Number(m[1]);
  const name = (raw as { rules?: { name?: unknown }[] })?.rules?.[index]?.name;
  const rule = typeof name === 'string' && name ? `rule "${name}"` : `rule #${index + 1}`;
  return m[2] ? `${rule} field "${m[2].replace(/\//g, '.')}"` : rule;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
