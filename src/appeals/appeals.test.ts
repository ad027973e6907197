import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp, until } from '../../test/helpers/app.js';
import { finedCase as finedCaseOf } from './testing.js';

let t: TestApp;
let inspector: { token: string; id: string };
let supervisor: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp(
    {},
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1',
      gov: { fineAfterMs: 0, payAfterMs: null },
    },
  );
  inspector = await staffMember(t, 'inspector');
  supervisor = await staffMember(t, 'supervisor');
});

const finedCase = () => finedCaseOf(t, inspector.token);

const phone = '+998901112233';
const code = () => /\b(\d{6})\b/.exec(t.deps.smsSimulator!.outbox(phone)[0]?.text ?? '')?.[1] ?? '';

describe('appeals', () => {
  it('files, is decided (cancel) and takes effect through the registry, retried across an outage', async () => {
    const c = await finedCase();
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: c.token,
      payload: { phone },
    });
    expect(sent.statusCode).toBe(202);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal',
      headers: c.token,
      payload: {
        text: 'It was not my car at that time.',
        attachmentIds: [],
        phone,
        code: code() === '000000' ? '111111' : '000000',
      },
    });
    expect(wrong.statusCode).toBe(401);
    const filed = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal',
      headers: c.token,
      payload: { text: 'It was not my car at that time.', attachmentIds: [], phone, code: code() },
    });
    expect(filed.statusCode).toBe(201);
    expect(filed.body).not.toContain(c.citizen.phone);
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: c.token,
      payload: { phone },
    });
    expect(again.statusCode).toBe(409);

    const next = await t.app.inject({
      method: 'POST',
      url: '/v1/appeals/next',
      headers: bearer(supervisor.token),
    });
    const id = next.json().id;
    expect(id).toBe(filed.json().id);
    const detail = await t.app.inject({
      method: 'GET',
      url: `/v1/appeals/${id}`,
      headers: bearer(supervisor.token),
    });
    expect(detail.statusCode).toBe(200);
    const byInspector = await t.app.inject({
      method: 'GET',
      url: '/v1/appeals',
      headers: bearer(inspector.token),
    });
    expect(byInspector.statusCode).toBe(403);

    t.gov!.control.down();
    const decided = await t.app.inject({
      method: 'POST',
      url: `/v1/appeals/${id}/decision`,
      headers: bearer(supervisor.token),
      payload: { decision: 'cancel', reasonCode: 'NOT_THE_VEHICLE' },
    });
    expect(decided.statusCode).toBe(200);
    await until('a failed delivery', async () => {
      const { rows } = await t.deps.pool.query('select registry_error from appeals where id = $1', [id]);
      return rows[0].registry_error;
    });
    const pending = await t.app.inject({ method: 'GET', url: '/v1/fines/case/appeal', headers: c.token });
    expect(pending.json().decision).toBeNull();
    t.gov!.control.up();
    await t.deps.pool.query('update appeals set registry_next_attempt_at = now() where id = $1', [id]);
    await t.deps.pool.query(`select graphile_worker.add_job('forward', '{}')`);
    await until('the report overturned', async () => {
      const { rows } = await t.deps.pool.query('select status from reports where id = $1', [c.id]);
      return rows[0].status === 'overturned';
    });
    const read = await t.app.inject({ method: 'GET', url: '/v1/fines/case/appeal', headers: c.token });
    expect(read.json()).toMatchObject({ status: 'decided', decision: 'cancel' });
    const { rows: told } = await t.deps.pool.query(
      "select 1 from notifications where report_id = $1 and event = 'overturned'",
      [c.id],
    );
    expect(told.length).toBeGreaterThan(0);
    await until('the driver told', async () =>
      // Filed with no language: told in Uzbek.
      t.deps.smsSimulator!.outbox(phone).some((m) => /shikoyat qanoatlantirildi/.test(m.text)),
    );
  }, 60_000);

  it('refuses an appeal after the window', async () => {
    const c = await finedCase();
    await t.deps.pool.query("update reports set fined_at = now() - interval '11 days' where id = $1", [c.id]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: c.token,
      payload: { phone: '+998901112234' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('APPEAL_WINDOW_CLOSED');
  }, 60_000);

  it('refuses a non-media attachment and an unknown attachment id', async () => {
    const c = await finedCase();
    const boundary = 'b0undary';
    const payload = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ${'x'.repeat(5000)}\r\n--${boundary}--\r\n`,
    );
    const up = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/attachments',
      headers: { ...c.token, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(up.statusCode).toBe(415);
    expect(up.json().code).toBe('EVIDENCE_TYPE_UNSUPPORTED');
    const p = '+998901112235';
    await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: c.token,
      payload: { phone: p },
    });
    const k = /\b(\d{6})\b/.exec(t.deps.smsSimulator!.outbox(p)[0]?.text ?? '')?.[1];
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal',
      headers: c.token,
      payload: { text: 'See the attached photo please.', attachmentIds: [randomUUID()], phone: p, code: k },
    });
    expect(res.statusCode).toBe(422);
  }, 60_000);
});
