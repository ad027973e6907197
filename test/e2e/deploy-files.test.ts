import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigSchema } from '../../src/platform/config/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const run = promisify(execFile);
const DEPLOY = path.resolve(import.meta.dirname, '..', '..', 'deploy');
const read = (file: string) => readFileSync(path.join(DEPLOY, file), 'utf8');
const SETTINGS = new Set(Object.keys(ConfigSchema.properties));

// biome-ignore lint/suspicious/noExplicitAny: the files are read as plain data
type Doc = any;

/** Every variable a deployment file sets for a Jarima process, with where it is set. */
function jarimaEnvironment(): [variable: string, where: string][] {
  const out: [string, string][] = [];
  // Dockerfile: ENV lines (continued with backslashes).
  const docker = read('Dockerfile').replace(/\\\n/g, ' ');
  for (const line of docker.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/([A-Z][A-Z0-9_]*)=/g)) out.push([m[1]!, 'Dockerfile']);
  }
  const compose: Doc = parseYaml(read('compose.yml'), { merge: true });
  for (const [name, service] of Object.entries<Doc>(compose.services)) {
    if (service.image !== 'jarima:latest') continue;
    for (const key of Object.keys(service.environment ?? {})) out.push([key, `compose.yml ${name}`]);
  }
  for (const doc of parseAllDocuments(read('kubernetes/jarima.yml')).map((d) => d.toJS() as Doc)) {
    if (doc.kind === 'ConfigMap') for (const key of Object.keys(doc.data)) out.push([key, 'ConfigMap']);
    for (const c of doc.spec?.template?.spec?.containers ?? [])
      for (const e of c.env ?? []) out.push([e.name, `${doc.metadata.name} ${c.name}`]);
  }
  return out;
}

/** Every HTTP path a deployment file probes or scrapes. */
function probedPaths(): [path: string, where: string][] {
  const out: [string, string][] = [];
  for (const m of read('Dockerfile').matchAll(/fetch\('http:\/\/[^']*'\+[^+]*\+'(\/[a-z]+)'/g))
    out.push([m[1]!, 'Dockerfile HEALTHCHECK']);
  for (const m of read('haproxy/haproxy.cfg').matchAll(/httpchk GET (\S+)/g))
    out.push([m[1]!, 'haproxy.cfg']);
  for (const job of (parseYaml(read('prometheus/prometheus.yml')) as Doc).scrape_configs)
    out.push([job.metrics_path, `prometheus.yml ${job.job_name}`]);
  for (const doc of parseAllDocuments(read('kubernetes/jarima.yml')).map((d) => d.toJS() as Doc)) {
    for (const c of doc.spec?.template?.spec?.containers ?? [])
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'])
        if (c[probe]) out.push([c[probe].httpGet.path, `${doc.metadata.name} ${probe}`]);
  }
  return out;
}

describe('the deployment files', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  it('set only variables the configuration schema knows', () => {
    const env = jarimaEnvironment();
    expect(env.length).toBeGreaterThan(20);
    expect(env.filter(([v]) => !SETTINGS.has(v))).toEqual([]);
  });

  it('probe and scrape only paths the processes serve, and they answer', async () => {
    const paths = probedPaths();
    expect(new Set(paths.map(([p]) => p))).toEqual(new Set(['/healthz', '/readyz', '/metrics']));
    for (const [p, where] of paths) {
      const res = await t.app.inject({ method: 'GET', url: p });
      expect(res.statusCode, `${p} (${where})`).toBe(200);
    }
  });

  it('build the image from the same Debian packages list as a host, as a non-root user', () => {
    const docker = read('Dockerfile');
    expect(docker).toContain('deploy/debian-packages.txt');
    expect(docker).toMatch(/npm ci --omit=dev/);
    expect(docker).toMatch(/^USER node$/m);
    expect(docker.match(/^FROM /gm)).toHaveLength(2);
  });

  it('give HAProxy a configuration it accepts', async () => {
    const haproxy = await run('haproxy', ['-v']).then(
      () => true,
      () => false,
    );
    if (!haproxy) {
      if (process.env.CI === 'true') throw new Error('CI needs haproxy (apt-get install haproxy)');
      console.warn('skipping haproxy -c: haproxy not installed');
      return;
    }
    const out = await run('haproxy', ['-c', '-f', path.join(DEPLOY, 'haproxy/haproxy.cfg')]);
    expect(out.stdout + out.stderr).toContain('Configuration file is valid');
  });
});
