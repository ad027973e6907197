import { bearer, reviewableReport, type TestApp, until } from '../../test/helpers/app.js';
import { issueCaseToken } from '../driver/case-token.js';

/**
 * A report the simulator has fined, with its ruling number stored: the case a driver appeals. Needs a test app with
 * the pipeline and forward workers and a simulator that fines at once; `inspectorToken` approves it.
 */
export async function finedCase(t: TestApp, inspectorToken: string) {
  const r = await reviewableReport(t);
  await t.app.inject({ method: 'POST', url: '/v1/review/next', headers: bearer(inspectorToken) });
  await t.app.inject({
    method: 'POST',
    url: `/v1/review/${r.id}/decision`,
    headers: bearer(inspectorToken),
    payload: { decision: 'approve' },
  });
  await until('the fine', async () => {
    const { rows } = await t.deps.pool.query('select status, ruling_number from reports where id = $1', [
      r.id,
    ]);
    return rows[0].status === 'fined' && rows[0].ruling_number;
  });
  return { ...r, token: { 'x-case-token': issueCaseToken(t.deps.keys.caseToken, { reportId: r.id }) } };
}

/** The latest 6-digit code sent to `phone` by the SMS simulator. */
export function lastCode(t: TestApp, phone: string): string {
  const text = t.deps.smsSimulator!.outbox(phone).at(-1)?.text ?? '';
  return /\b(\d{6})\b/.exec(text)?.[1] ?? '';
}

/** The driver confirms `phone` and files the appeal of the case in `lang`; returns the appeal's id. */
export async function fileAppealOf(
  t: TestApp,
  c: { token: Record<string, string> },
  phone: string,
  lang: 'uz' | 'ru' | 'en' = 'en',
): Promise<string> {
  const sent = await t.app.inject({
    method: 'POST',
    url: '/v1/fines/case/appeal/phone',
    headers: c.token,
    payload: { phone, lang },
  });
  if (sent.statusCode !== 202) throw new Error(`code not sent: ${sent.statusCode} ${sent.body}`);
  const filed = await t.app.inject({
    method: 'POST',
    url: '/v1/fines/case/appeal',
    headers: c.token,
    payload: {
      text: 'It was not my car at that time.',
      attachmentIds: [],
      phone,
      code: lastCode(t, phone),
      lang,
    },
  });
  if (filed.statusCode !== 201) throw new Error(`appeal not filed: ${filed.statusCode} ${filed.body}`);
  return filed.json().id;
}
