import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../platform/config/config.js';
import { parseWorkerPools, workerPoolsThatFit } from './pools.js';

describe('JARIMA_WORKERS', () => {
  it('parses per-stage pool sizes; stages not named run nowhere in this process', () => {
    const none = { validate: 0, dedupe: 0, enrich: 0, analyze: 0, forward: 0, notify: 0, payout: 0 };
    expect(parseWorkerPools('validate:4, dedupe:2,enrich:4,analyze:2,notify:8')).toEqual({
      ...none,
      validate: 4,
      dedupe: 2,
      enrich: 4,
      analyze: 2,
      notify: 8,
    });
    expect(parseWorkerPools('analyze:3')).toEqual({ ...none, analyze: 3 });
    expect(parseWorkerPools('none')).toEqual(none);
  });

  it('refuses unknown stages and malformed entries, naming the variable', () => {
    expect(() => parseWorkerPools('validate:4,fold:2')).toThrow(/"fold:2"/);
    expect(() => loadConfig({ JARIMA_WORKERS: 'validate:4,bogus:1' })).toThrow(ConfigError);
    expect(() => loadConfig({ JARIMA_WORKERS: 'validate=4' })).toThrow(/JARIMA_WORKERS/);
  });
});

describe('stage pools', () => {
  it('resize while running: a stage sized to 0 holds its reports until it is sized up again', async () => {
    const { bearer, citizenWithEvidence, createTestApp, reportBody, submitReport } = await import(
      '../../test/helpers/app.js'
    );
    const t = await createTestApp({}, { workers: true });
    await t.workers!.resize('analyze', 0);
    expect(t.workers!.sizes()).toMatchObject({ validate: 1, analyze: 0 });
    const c = await citizenWithEvidence(t);
    const { id } = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json();
    const status = async () =>
      (await t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(c.token) })).json()
        .status;
    for (let i = 0; i < 200 && (await status()) !== 'enriched'; i++)
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    expect(await status()).toBe('enriched');
    await t.workers!.resize('analyze', 3);
    for (let i = 0; i < 200 && (await status()) !== 'awaiting_review'; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(await status()).toBe('awaiting_review');
  });
});

describe('pool sizing', () => {
  it('refuses worker pools the database pool cannot serve, instead of deadlocking', () => {
    // startWorkers (src/app/worker.ts) sizes its pools with workerPoolsThatFit before starting any.
    const config = loadConfig({ DB_POOL_MAX: '8', JARIMA_WORKERS: 'analyze:8' });
    expect(() => workerPoolsThatFit(config)).toThrow(
      /DB_POOL_MAX=8 is too small for JARIMA_WORKERS=analyze:8: it needs at least 17/,
    );
  });
});
