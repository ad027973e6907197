import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type AlertFile, AlertFileSchema, parseAlertRules } from './rules.js';

/**
 * The alert rules of config/alerts.json for a Prometheus server and its Alertmanager, so an agency that runs its
 * own monitoring evaluates the same rules over every process's /metrics instead of one process's view. Written by
 * `npm run docs` into deploy/prometheus/ and checked there by promtool and amtool (prometheus.test.ts).
 */
export const PROMETHEUS_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'deploy', 'prometheus');
export const ALERTS_JSON = path.resolve(import.meta.dirname, '..', '..', '..', 'config', 'alerts.json');

const HEADER = (what: string) =>
  `# ${what}, generated from config/alerts.json by \`npm run docs\`: edit that file, not this one.\n`;

/** Prometheus's rule file: one group evaluated at the file's interval, each rule with its severity and sinks. */
export function prometheusRules(file: AlertFile): string {
  parseAlertRules(file);
  const lines = [
    HEADER('Alerting rules'),
    'groups:',
    '  - name: jarima',
    `    interval: ${file.evaluationInterval}`,
    '    rules:',
  ];
  for (const r of file.rules) {
    lines.push(
      `      - alert: ${r.name}`,
      `        expr: ${quote(r.expr)}`,
      `        for: ${r.for}`,
      '        labels:',
      `          severity: ${r.severity}`,
      `          sinks: ${quote(r.sinks.join(','))}`,
      '        annotations:',
      `          summary: ${quote(promTemplate(r.summary))}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Alertmanager's configuration for the same sinks: a rule's `sinks` label routes it to e-mail and the webhook as
 * config/alerts.json says; `log` has no Alertmanager counterpart (Alertmanager logs what it sends) and goes to a
 * receiver that sends nothing. Mail transport settings are the operator's (global.smtp_*), left as placeholders.
 */
export function alertmanagerConfig(file: AlertFile): string {
  parseAlertRules(file);
  const repeat = file.repeatInterval === '0s' ? '8760h' : file.repeatInterval;
  const lines = [
    HEADER('Alertmanager configuration'),
    'global:',
    `  smtp_smarthost: ${quote('smtp.example.org:587')}`,
    `  smtp_from: ${quote('jarima-alerts@example.org')}`,
    'route:',
    '  receiver: log',
    `  group_by: [${quote('alertname')}]`,
    `  repeat_interval: ${repeat}`,
    '  routes:',
  ];
  const receivers = ['  - name: log'];
  if (file.sinks.email) {
    lines.push(
      '    - receiver: email',
      `      matchers: [${quote('sinks=~"(.*,)?email(,.*)?"')}]`,
      '      continue: true',
    );
    receivers.push(
      '  - name: email',
      '    email_configs:',
      ...file.sinks.email.to.map((to) => `      - to: ${quote(to)}\n        send_resolved: true`),
    );
  }
  if (file.sinks.webhook) {
    lines.push(
      '    - receiver: webhook',
      `      matchers: [${quote('sinks=~"(.*,)?webhook(,.*)?"')}]`,
      '      continue: true',
    );
    receivers.push(
      '  - name: webhook',
      '    webhook_configs:',
      `      - url: ${quote(file.sinks.webhook.url)}`,
      '        send_resolved: true',
    );
  }
  if (!file.sinks.email && !file.sinks.webhook) lines.pop();
  return `${[...lines, 'receivers:', ...receivers].join('\n')}\n`;
}

/** Our summaries' {{value}} (three significant digits) and {{label}} in Prometheus's template language. */
export function promTemplate(summary: string): string {
  return summary.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) =>
    name === 'value' ? '{{ printf "%.3g" $value }}' : `{{ $labels.${name} }}`,
  );
}

/**
 * A YAML scalar quoted as the repository's formatter (biome) writes it, so the generated files stay as formatted:
 * double quotes (JSON's string syntax is YAML's), single quotes when the text holds a double quote.
 */
function quote(s: string): string {
  return s.includes('"') ? `'${s.replace(/'/g, "''")}'` : JSON.stringify(s);
}

/** The generated files, by name under deploy/prometheus/. */
export function generatedPrometheusFiles(alertsJson = ALERTS_JSON): Record<string, string> {
  const withDefaults = Value.Default(
    AlertFileSchema,
    JSON.parse(readFileSync(alertsJson, 'utf8')),
  ) as AlertFile;
  return {
    'rules.yml': prometheusRules(withDefaults),
    'alertmanager.yml': alertmanagerConfig(withDefaults),
  };
}
