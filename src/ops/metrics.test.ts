import { describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  settledReport,
  submitReport,
} from '../../test/helpers/app.js';

/** The value of one sample line, e.g. `jarima_stage_completions_total{stage="validate"}`. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}

describe('GET /metrics', () => {
  it('exposes HTTP, pipeline, cache, pool, breaker and process signals without ids', async () => {
    const t = await createTestApp({}, { workers: true });
    const c = await citizenWithEvidence(t);
    const id = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id as string;
    await settledReport(t, id, c.token);
    // The second read of a settled report is a cache hit.
    for (let i = 0; i < 2; i++)
      await t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(c.token) });
    await t.app.inject({ method: 'GET', url: '/v1/stats/summary' });
    await t.app.inject({ method: 'GET', url: '/v1/no-such-route' });

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(
      sample(text, 'jarima_http_requests_total{route="/v1/reports/:id",method="GET",status_class="2xx"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'jarima_http_requests_total{route="unmatched",method="GET",status_class="4xx"}'),
    ).toBe(1);
    expect(text).toContain('jarima_http_request_duration_seconds_bucket{le="0.005",route="/v1/reports"');
    for (const stage of ['validate', 'dedupe', 'enrich', 'analyze']) {
      expect(sample(text, `jarima_stage_arrivals_total{stage="${stage}"}`)).toBe(1);
      expect(sample(text, `jarima_stage_completions_total{stage="${stage}"}`)).toBe(1);
      expect(sample(text, `jarima_stage_service_seconds_count{stage="${stage}"}`)).toBe(1);
      expect(sample(text, `jarima_stage_workers{stage="${stage}"}`)).toBeGreaterThanOrEqual(1);
    }
    expect(sample(text, 'jarima_cache_requests_total{namespace="stats",result="miss"}')).toBe(1);
    expect(sample(text, 'jarima_cache_requests_total{namespace="report",result="hit"}')).toBeGreaterThan(0);
    expect(sample(text, 'jarima_db_pool_connections{state="waiting"}')).toBe(0);
    expect(sample(text, 'jarima_circuit_breaker_open{system="gov_registry"}')).toBe(0);
    expect(text).toContain('jarima_db_query_duration_seconds_bucket');
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    // Bounded labels: no report id, no plate, no phone anywhere.
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(text).not.toContain('+998');
  });

  it('asks for METRICS_TOKEN when one is set', async () => {
    const t = await createTestApp({ METRICS_TOKEN: 'scrape-token-0123456789' });
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-token-x') });
    expect(wrong.statusCode).toBe(401);
    const right = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: bearer('scrape-token-0123456789'),
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('jarima_http_requests_total');
  });
});
