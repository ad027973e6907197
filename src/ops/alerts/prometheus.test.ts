import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ALERTS_JSON,
  alertmanagerConfig,
  generatedPrometheusFiles,
  PROMETHEUS_DIR,
  promTemplate,
} from './prometheus.js';

const run = promisify(execFile);

/** Debian's prometheus package (promtool) and prometheus-alertmanager (amtool), installed by .ci/run. */
async function has(tool: string): Promise<boolean> {
  return run(tool, ['--version']).then(
    () => true,
    () => false,
  );
}
const tools = { promtool: await has('promtool'), amtool: await has('amtool') };
if (!tools.promtool || !tools.amtool) {
  const missing = Object.entries(tools)
    .filter(([, ok]) => !ok)
    .map(([t]) => t);
  if (process.env.CI === 'true')
    throw new Error(`CI needs ${missing.join(' and ')} (apt-get install prometheus prometheus-alertmanager)`);
  console.warn(`skipping the promtool/amtool checks: ${missing.join(' and ')} not installed`);
}

describe('the alert rules for Prometheus and Alertmanager', () => {
  it('are current: deploy/prometheus matches config/alerts.json (npm run docs writes them)', () => {
    for (const [name, text] of Object.entries(generatedPrometheusFiles())) {
      expect(readFileSync(path.join(PROMETHEUS_DIR, name), 'utf8'), `${name} is stale: npm run docs`).toBe(
        text,
      );
    }
  });

  it('fill our summaries’ placeholders with Prometheus’s', () => {
    expect(promTemplate('{{value}} reports past their {{kind}} deadline')).toBe(
      '{{ printf "%.3g" $value }} reports past their {{ $labels.kind }} deadline',
    );
  });

  it.skipIf(!tools.promtool)(
    'pass promtool check rules, check config and the rules’ unit tests',
    async () => {
      const opts = { cwd: PROMETHEUS_DIR };
      expect((await run('promtool', ['check', 'rules', 'rules.yml'], opts)).stdout).toContain('SUCCESS');
      expect((await run('promtool', ['check', 'config', 'prometheus.yml'], opts)).stdout).toContain(
        'SUCCESS',
      );
      expect((await run('promtool', ['test', 'rules', 'rules.test.yml'], opts)).stdout).toContain('SUCCESS');
    },
  );

  it.skipIf(!tools.amtool)(
    'give Alertmanager a configuration amtool accepts, webhook sinks too',
    async () => {
      const out = await run('amtool', ['check-config', 'alertmanager.yml'], { cwd: PROMETHEUS_DIR });
      expect(out.stdout).toContain('SUCCESS');
      const rules = JSON.parse(readFileSync(ALERTS_JSON, 'utf8'));
      rules.sinks.webhook = { url: 'https://hooks.example.org/jarima', timeoutMs: 5000, attempts: 4 };
      rules.rules[0].sinks = ['webhook', 'email'];
      const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-am-'));
      try {
        const withWebhook = alertmanagerConfig(rules);
        expect(withWebhook).toContain('url: "https://hooks.example.org/jarima"');
        await writeFile(path.join(dir, 'alertmanager.yml'), withWebhook);
        expect((await run('amtool', ['check-config', 'alertmanager.yml'], { cwd: dir })).stdout).toContain(
          'SUCCESS',
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
