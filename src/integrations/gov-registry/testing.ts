import { createHash, randomUUID } from 'node:crypto';
import type { CaseSubmission } from './port.js';

/** A valid submission with a fresh report id; tests override what they exercise. */
export function sampleCase(overrides: Partial<CaseSubmission> = {}): CaseSubmission {
  return {
    reportId: randomUUID(),
    violationCode: 'RED_LIGHT',
    plate: '01A123BC',
    incidentAt: '2026-11-20T09:15:00.000Z',
    lat: 41.3111,
    lon: 69.2797,
    regionId: 26,
    districtId: 2601,
    fineBhm: 5,
    fineSum: 2_060_000,
    evidence: [{ sha256: createHash('sha256').update(randomUUID()).digest('hex'), kind: 'photo' }],
    ...overrides,
  };
}

// The simulator's error injection becomes the same sequence on every run, so chaos tests are not flaky.
export { seededRandom } from '../../platform/random.js';
