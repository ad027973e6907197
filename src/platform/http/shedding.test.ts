import { beforeAll, describe, expect, it, vi } from 'vitest';
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
import { type Load, SustainedPressure } from './shedding.js';

let t: TestApp;
let delay = 0;
let utilised = 0;
beforeAll(async () => {
  // Default thresholds: public at 100 ms of event-loop delay or 95 % utilisation, reads at 300 ms, writes at 2 s;
  // decided on each reading as it comes (the window that makes it sustained has tests of its own below).
  t = await createTestApp(
    { SHED_SUSTAIN_MS: '0' },
    { load: () => ({ eventLoopDelay: delay, eventLoopUtilized: utilised }) },
  );
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

describe('shedding only under sustained pressure', () => {
  const thresholds = { delayMs: { public: 100, read: 300, write: 2000 }, publicUtilisation: 0.95 };
  const at = (eventLoopDelay: number, eventLoopUtilized = 0.1): Load => ({
    eventLoopDelay,
    eventLoopUtilized,
  });

  it('ignores a spike shorter than the window, however high, and sheds once every sample for the window is over', () => {
    const p = new SustainedPressure({ ...thresholds, sustainMs: 3000 });
    // A loop blocked for 4 s at start-up reports one sample after the block: Infinity when it recorded nothing.
    p.record(at(Number.POSITIVE_INFINITY, 1), 4000);
    expect([p.over('public'), p.over('read'), p.over('write')]).toEqual([false, false, false]);
    p.record(at(0), 4250);
    p.record(at(5000), 4500);
    p.record(at(5000), 7250);
    expect(p.over('write')).toBe(false);
    // One sample under the threshold starts the window again.
    p.record(at(0), 7500);
    p.record(at(150), 7750);
    p.record(at(150), 10_500);
    expect(p.over('public')).toBe(false);
    p.record(at(150), 10_750);
    expect([p.over('public'), p.over('read'), p.over('write')]).toEqual([true, false, false]);
    // Public reads go on utilisation too, with the delay low.
    const busy = new SustainedPressure({ ...thresholds, sustainMs: 1000 });
    for (let t = 0; t <= 1000; t += 250) busy.record(at(0, 0.97), t);
    expect([busy.over('public'), busy.over('read')]).toEqual([true, false]);
    busy.record(at(0, 0.5), 1250);
    expect(busy.over('public')).toBe(false);
  });

  it('on a server: a spike refuses nothing; sustained overload sheds public reads, never a submission', async () => {
    let load = at(0);
    const s = await createTestApp({ SHED_SUSTAIN_MS: '750' }, { load: () => load });
    const c = await citizenWithEvidence(s);
    const publicRead = async () =>
      (await s.app.inject({ method: 'GET', url: '/v1/stats/summary' })).statusCode;

    // Far over every threshold, but only since just now: not sustained.
    load = at(5000, 1);
    expect(await publicRead()).toBe(200);
    expect((await submitReport(s, c.token, reportBody([c.evidenceId]))).statusCode).toBe(202);

    load = at(150);
    await vi.waitFor(async () => expect(await publicRead()).toBe(503), { timeout: 10_000, interval: 100 });
    const evidence = (await uploadEvidence(s, c.token, await makeJpeg(640, 480))).json().id;
    expect((await submitReport(s, c.token, reportBody([evidence]))).statusCode).toBe(202);

    load = at(0);
    await vi.waitFor(async () => expect(await publicRead()).toBe(200), { timeout: 10_000, interval: 100 });
  });
});
