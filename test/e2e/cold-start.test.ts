import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import { type JarimaProcess, running, spawnJarima } from '../helpers/process.js';

/**
 * A freshly started, otherwise idle `jarima start` with the shipped shedding thresholds (other e2e tests turn them
 * off): the first visitor's page loads while the process still compiles and warms its first routes, which blocks
 * its event loop for a moment, and a lone visitor must never be told "the service is busy".
 */
const PUBLIC_PAGE = [
  '/v1/stats/summary',
  '/v1/stats/by-district',
  '/v1/stats/timeseries',
  '/v1/violation-types?active=true',
  '/v1/boundaries?level=region',
];
const SETTINGS = [
  'SHED_PUBLIC_DELAY_MS',
  'SHED_READS_DELAY_MS',
  'SHED_WRITES_DELAY_MS',
  'SHED_PUBLIC_UTILISATION',
];

let dataDir: string;
let jarima: JarimaProcess;
let url: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-cold-'));
  const defaults = loadConfig({}) as unknown as Record<string, unknown>;
  const shipped = Object.fromEntries(SETTINGS.map((k) => [k, String(defaults[k])]));
  jarima = spawnJarima(['start'], { JARIMA_DATA_DIR: dataDir, PORT: '0', ...shipped });
  url = await running(jarima);
}, 120_000);

afterAll(async () => {
  await jarima.stop('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('a cold start', () => {
  it('answers the first visitors’ page loads, none with 503', async () => {
    const statuses: Record<string, number[]> = {};
    const seen = (p: string, status: number) => {
      statuses[p] = [...(statuses[p] ?? []), status];
    };
    const get = async (p: string) => {
      const res = await fetch(url + p);
      await res.arrayBuffer();
      seen(p, res.status);
    };
    // As a browser loads the statistics page: the document and its assets, then the page's API reads at once.
    for (let visit = 0; visit < 3; visit++) {
      const html = await fetch(`${url}/`);
      const body = await html.text();
      seen('/', html.status);
      const assets = [...body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
      await Promise.all([...assets, ...PUBLIC_PAGE].map(get));
    }
    for (const p of ['/', ...PUBLIC_PAGE]) expect(statuses[p], p).toEqual([200, 200, 200]);
    const refused = Object.entries(statuses).filter(([, s]) => s.some((x) => x === 503));
    expect(refused).toEqual([]);
  });
});
