import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGovRegistry } from './http-adapter.js';
import { type CaseSubmission, type GovRegistry, RegistryRejectedError } from './port.js';
import { createSimulatorStore, startGovRegistrySimulator } from './simulator.js';
import { sampleCase } from './testing.js';

interface RegistryUnderTest {
  registry: GovRegistry;
  teardown(): Promise<void>;
}

/** What every GovRegistry must do, whatever carries the calls. */
function describeGovRegistryContract(name: string, factory: () => Promise<RegistryUnderTest>) {
  describe(`GovRegistry contract: ${name}`, () => {
    let sut: RegistryUnderTest;
    beforeAll(async () => {
      sut = await factory();
    });
    afterAll(() => sut?.teardown());

    it('accepts a case and answers with a receipt', async () => {
      const receipt = await sut.registry.submitCase(sampleCase());
      expect(receipt.caseNumber).toMatch(/\S/);
      expect(receipt.duplicate).toBe(false);
      expect(Number.isNaN(Date.parse(receipt.acceptedAt))).toBe(false);
    });

    it('answers a repeated report id with the same case, marked duplicate', async () => {
      const c = sampleCase();
      const first = await sut.registry.submitCase(c);
      const again = await sut.registry.submitCase(c);
      expect(again).toEqual({ ...first, duplicate: true });
    });

    it('returns a submitted case by report id', async () => {
      const c = sampleCase();
      const receipt = await sut.registry.submitCase(c);
      const got = await sut.registry.getCase(c.reportId);
      expect(got?.caseNumber).toBe(receipt.caseNumber);
      expect(['accepted', 'fined', 'paid']).toContain(got?.status);
    });

    it('rejects a bad submission as permanent, naming the field', async () => {
      const bad = { ...sampleCase(), lat: 123 } satisfies CaseSubmission;
      const err = await sut.registry.submitCase(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryRejectedError);
      expect(err).toMatchObject({ retryable: false, status: 400, code: 'VALIDATION_FAILED', field: '/lat' });
      expect(await sut.registry.getCase(bad.reportId)).toBeNull();
    });

    it('answers null for a report it never saw', async () => {
      expect(await sut.registry.getCase(randomUUID())).toBeNull();
    });

    /** A submitted case once the registry has issued its fine (the factories fine within milliseconds). */
    async function finedCase() {
      const c = sampleCase();
      const { caseNumber } = await sut.registry.submitCase(c);
      for (let i = 0; i < 100 && (await sut.registry.getCase(c.reportId))?.status !== 'fined'; i++)
        await new Promise((r) => setTimeout(r, 20));
      return { reportId: c.reportId, caseNumber };
    }

    it('cancels a fine on appeal, once however often the decision is sent', async () => {
      const c = await finedCase();
      const d = { appealId: randomUUID(), ...c, decision: 'cancel' as const };
      expect(await sut.registry.decideAppeal(d)).toEqual({
        appealId: d.appealId,
        caseStatus: 'cancelled',
        duplicate: false,
      });
      expect(await sut.registry.decideAppeal(d)).toMatchObject({ caseStatus: 'cancelled', duplicate: true });
      expect((await sut.registry.getCase(c.reportId))?.status).toBe('cancelled');
    });

    it('upholds or corrects a ruling without cancelling the fine', async () => {
      const upheld = await finedCase();
      const u = await sut.registry.decideAppeal({ appealId: randomUUID(), ...upheld, decision: 'uphold' });
      expect(u.caseStatus).toBe('fined');
      const corrected = await finedCase();
      const k = await sut.registry.decideAppeal({
        appealId: randomUUID(),
        ...corrected,
        decision: 'correct',
        violationCode: '128-3.1',
      });
      expect(k.caseStatus).toBe('fined');
    });

    it('refuses, as permanent, a decision on a case it does not have', async () => {
      const err = await sut.registry
        .decideAppeal({
          appealId: randomUUID(),
          reportId: randomUUID(),
          caseNumber: 'UZ-X',
          decision: 'uphold',
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: false, code: 'CASE_NOT_FOUND' });
    });

    it('reports a closed breaker while healthy', () => {
      expect(sut.registry.breakerState()).toBe('closed');
    });
  });
}

const API_KEY = 'contract-test-key';

describeGovRegistryContract('HTTP adapter → simulator', async () => {
  const sim = await startGovRegistrySimulator({ apiKey: API_KEY, fineAfterMs: 20 });
  const registry = new HttpGovRegistry({ urls: [sim.url], apiKey: API_KEY });
  return {
    registry,
    teardown: async () => {
      await registry.close();
      await sim.stop();
    },
  };
});

describeGovRegistryContract('HTTP adapter → two slow replicas sharing one store (BalancedPool)', async () => {
  const store = createSimulatorStore();
  const sims = await Promise.all(
    [0, 1].map(() =>
      startGovRegistrySimulator({
        apiKey: API_KEY,
        store,
        latencyMs: 100,
        latencyJitterMs: 100,
        fineAfterMs: 20,
      }),
    ),
  );
  const registry = new HttpGovRegistry({ urls: sims.map((s) => s.url), apiKey: API_KEY, timeoutMs: 2000 });
  return {
    registry,
    teardown: async () => {
      await registry.close();
      await Promise.all(sims.map((s) => s.stop()));
    },
  };
});
