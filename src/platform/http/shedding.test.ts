import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../../test/helpers/app.js';
import { makeJpeg } from '../../../test/helpers/media.js';

let t: TestApp;
let delay = 0;
let utilised = 0;
beforeAll(async () => {
  // Default thresholds: public at 100 ms of event-loop delay or 95 % utilisation, reads at 300 ms, writes at 2 s.
  t = await createTestApp({}, { load: () => ({ eventLoopDelay: delay, eventLoopUtilized: utilised }) });
});

describe('overload shedding by priority class', () => {
  it('sheds public reads first, then status reads, and submissions only in extremis', async () => {
    const c = await citizenWithEvidence(t);
    const filed = await submitReport(t, c.token, reportBody([c.evidenceId]));
    const id = filed.json().id;
    const publicRead = () => t.app.inject({ method: 'GET', url: '/v1/stats/summary' });
    const statusRead = () =>
      t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(c.token) });
    const upload = async () => uploadEvidence(t, c.token, await makeJpeg(640, 480));
    const health = () => t.app.inject({ method: 'GET', url: '/healthz' });

    delay = 0;
    expect([(await publicRead()).statusCode, (await statusRead()).statusCode]).toEqual([200, 200]);

    // A loop kept busy by short requests sheds public reads before its timers fall behind.
    utilised = 0.97;
    expect((await publicRead()).statusCode).toBe(503);
    expect((await statusRead()).statusCode).toBe(200);
    utilised = 0.5;

    delay = 150;
    const shed = await publicRead();
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('5');
    expect(shed.json()).toMatchObject({ code: 'OVERLOADED', details: { class: 'public' } });
    expect((await statusRead()).statusCode).toBe(200);

    delay = 500;
    expect((await statusRead()).statusCode).toBe(503);
    expect((await upload()).statusCode).toBe(201);
    const evidence = (await upload()).json().id;
    expect((await submitReport(t, c.token, reportBody([evidence]))).statusCode).toBe(202);

    delay = 5000;
    expect((await upload()).statusCode).toBe(503);
    expect((await submitReport(t, c.token, reportBody([c.evidenceId]))).statusCode).toBe(503);
    // Never shed: health, and sign-in.
    expect((await health()).statusCode).toBe(200);
    const otp = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/otp',
      payload: { phone: '+998901234000' },
    });
    expect(otp.statusCode).toBe(202);

    delay = 0;
    expect((await publicRead()).statusCode).toBe(200);
  });
});
