import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpGovRegistry, type HttpGovRegistryOptions } from './http-adapter.js';
import { type BreakerState, RegistryRejectedError, RegistryUnavailableError } from './port.js';
import {
  createSimulatorStore,
  type GovRegistrySimulator,
  runGovRegistrySimulatorCli,
  type SimulatorOptions,
  startGovRegistrySimulator,
} from './simulator.js';
import { sampleCase, seededRandom } from './testing.js';

const API_KEY = 'chaos-test-key';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function simulator(opts: Partial<SimulatorOptions> = {}): Promise<GovRegistrySimulator> {
  const sim = await startGovRegistrySimulator({ apiKey: API_KEY, ...opts });
  cleanups.push(sim.stop);
  return sim;
}

function adapter(urls: string[], opts: Partial<HttpGovRegistryOptions> = {}): HttpGovRegistry {
  const registry = new HttpGovRegistry({
    urls,
    apiKey: API_KEY,
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    ...opts,
  });
  cleanups.push(() => registry.close());
  return registry;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('HTTP adapter resilience (against the simulator)', () => {
  it('retries injected 503s and lost responses without ever creating a second case', async () => {
    const sim = await simulator({ errorRate: 0.3, lostResponseRate: 0.3, random: seededRandom(7) });
    const registry = adapter([sim.url], { retries: 10 });
    const cases = Array.from({ length: 20 }, () => sampleCase());
    const receipts = [];
    for (const c of cases) receipts.push(await registry.submitCase(c));

    const stats = sim.control.stats();
    expect(stats.errorsInjected).toBeGreaterThan(5);
    expect(stats.duplicatesAnswered).toBeGreaterThan(0);
    expect(stats.casesCreated).toBe(cases.length);
    expect(new Set(receipts.map((r) => r.caseNumber)).size).toBe(cases.length);
    for (const [i, c] of cases.entries()) {
      expect((await registry.getCase(c.reportId))?.caseNumber).toBe(receipts[i]?.caseNumber);
    }
  });

  it('opens the breaker in an outage, fails fast with retryAfterMs, and closes once the registry is back', async () => {
    const sim = await simulator();
    const changes: BreakerState[] = [];
    const registry = adapter([sim.url], {
      retries: 1,
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 300 },
      onBreakerChange: (s) => changes.push(s),
    });
    sim.control.down();
    for (let i = 0; i < 2; i++) {
      expect(await failure(registry.submitCase(sampleCase()))).toMatchObject({
        reason: 'server_error',
        status: 503,
      });
    }
    expect(registry.breakerState()).toBe('open');

    const before = sim.control.stats().requests;
    const open = await failure(registry.submitCase(sampleCase()));
    expect(open).toBeInstanceOf(RegistryUnavailableError);
    const { reason, retryAfterMs } = open as RegistryUnavailableError;
    expect(reason).toBe('breaker_open');
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(300);
    expect(sim.control.stats().requests).toBe(before);

    sim.control.up();
    await sleep(retryAfterMs + 20);
    const receipt = await registry.submitCase(sampleCase());
    expect(receipt.duplicate).toBe(false);
    expect(registry.breakerState()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    expect(sim.control.stats().casesCreated).toBe(1);
  });

  it('reopens the breaker when the half-open probe fails', async () => {
    const sim = await simulator();
    const registry = adapter([sim.url], {
      retries: 0,
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 50 },
    });
    sim.control.down();
    await failure(registry.getCase(sampleCase().reportId));
    expect(registry.breakerState()).toBe('open');
    await sleep(70);
    expect(await failure(registry.getCase(sampleCase().reportId))).toMatchObject({ reason: 'server_error' });
    expect(registry.breakerState()).toBe('open');
  });

  it('times a slow registry out as retryable, and the retry finds the case the slow attempt created', async () => {
    const sim = await simulator({ latencyMs: 400 });
    const registry = adapter([sim.url], { timeoutMs: 100, retries: 1 });
    const c = sampleCase();
    const started = Date.now();
    const err = await failure(registry.submitCase(c));
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);

    // The registry finished both timed-out attempts anyway: one case, one duplicate.
    await vi.waitFor(
      () => expect(sim.control.stats().casesCreated + sim.control.stats().duplicatesAnswered).toBe(2),
      { timeout: 3000 },
    );
    sim.control.set({ latencyMs: 0 });
    expect((await registry.submitCase(c)).duplicate).toBe(true);
    expect(sim.control.stats().casesCreated).toBe(1);
  });

  it('times out a registry that hangs during an outage', async () => {
    const sim = await simulator({ outageMode: 'hang' });
    const registry = adapter([sim.url], { timeoutMs: 100, retries: 0 });
    sim.control.outage(5000);
    expect(await failure(registry.getCase(sampleCase().reportId))).toMatchObject({ reason: 'timeout' });
  });

  it('hands a Retry-After longer than its own backoff to the caller instead of sleeping on it', async () => {
    const sim = await simulator();
    const registry = adapter([sim.url], { retries: 3 });
    sim.control.outage(3000);
    const err = await failure(registry.submitCase(sampleCase()));
    expect(err).toMatchObject({ reason: 'server_error', retryAfterMs: 3000 });
    expect(sim.control.stats().requests).toBe(1);
  });

  it('fails fast when the bulkhead is full', async () => {
    const sim = await simulator({ latencyMs: 200 });
    const registry = adapter([sim.url], { bulkhead: { maxConcurrent: 1, maxQueued: 0 } });
    const results = await Promise.allSettled([
      registry.submitCase(sampleCase()),
      registry.submitCase(sampleCase()),
    ]);
    expect(results[0]?.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { reason: 'bulkhead_full', retryable: true },
    });
  });

  it('neither retries nor counts rejections against the breaker', async () => {
    const sim = await simulator();
    const registry = adapter([sim.url], { breaker: { consecutiveFailures: 1 } });
    for (let i = 0; i < 3; i++) {
      const err = await failure(registry.submitCase({ ...sampleCase(), evidence: [] }));
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', field: '/evidence' });
    }
    expect(sim.control.stats().requests).toBe(3);
    expect(registry.breakerState()).toBe('closed');
  });

  it('flags a wrong api key as our misconfiguration, not a bad report', async () => {
    const sim = await simulator();
    const registry = adapter([sim.url], { apiKey: 'wrong' });
    const err = await failure(registry.submitCase(sampleCase()));
    expect(err).toBeInstanceOf(RegistryRejectedError);
    expect(err).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', misconfigured: true });
  });

  it('refuses a report id resubmitted with different content', async () => {
    const sim = await simulator();
    const registry = adapter([sim.url]);
    const c = sampleCase();
    await registry.submitCase(c);
    const err = await failure(registry.submitCase({ ...c, violationCode: 'SPEEDING' }));
    expect(err).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED', retryable: false });
  });

  it('stops at once when the caller aborts, without blaming the registry', async () => {
    const sim = await simulator({ latencyMs: 300 });
    const registry = adapter([sim.url], { breaker: { consecutiveFailures: 1 } });
    const err = await failure(registry.submitCase(sampleCase(), AbortSignal.timeout(50)));
    expect(err).not.toBeInstanceOf(RegistryUnavailableError);
    expect((err as Error).name).toBe('TimeoutError');
    expect(registry.breakerState()).toBe('closed');
  });

  it('spreads calls over replicas sharing one store, and a case made on one is a duplicate on the other', async () => {
    const store = createSimulatorStore();
    const sims = [await simulator({ store }), await simulator({ store })];
    const registry = adapter(sims.map((s) => s.url));
    for (let i = 0; i < 10; i++) {
      const c = sampleCase();
      await registry.submitCase(c);
      expect((await registry.submitCase(c)).duplicate).toBe(true);
    }
    for (const s of sims) expect(s.control.stats().requests).toBeGreaterThan(0);
    expect(sims.reduce((n, s) => n + s.control.stats().casesCreated, 0)).toBe(10);
  });
});

describe('simulator CLI', () => {
  it('serves until told to stop', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const done = runGovRegistrySimulatorCli(
      ['--port', '0', '--api-key', 'k', '--pay-after-ms', 'never'],
      (l) => lines.push(l),
      stop.signal,
    );
    await vi.waitFor(() => expect(lines[0]).toMatch(/listening on http:\/\//));
    const url = lines[0]?.split(' ').at(-1);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    stop.abort();
    await done;
    expect(lines.at(-1)).toMatch(/stopped/);
  });

  it('refuses bad arguments', async () => {
    await expect(
      runGovRegistrySimulatorCli(['--error-rate', '2', '--api-key', 'k'], () => {}),
    ).rejects.toThrow(/--error-rate/);
    await expect(runGovRegistrySimulatorCli([], () => {})).rejects.toThrow(/--api-key/);
  });
});
