import { type FormEvent, useReducer, useRef, useState } from 'react';
import { ApiError, api, asApiError } from '../../api/client';
import type { Accepted } from '../../api/types';
import { Page, useErrorText } from '../../app/common';
import { navigate } from '../../app/router';
import { useI18n } from '../../i18n';
import { newIdempotencyKey } from '../../lib/ids';
import { RULES_READ_KEY, RulesList } from '../Rules';
import { EvidenceField } from './EvidenceField';
import { PlaceField } from './PlaceField';
import { PlateField } from './PlateField';
import { derive, formReducer, initialForm, reportBody } from './reducer';
import { TimeField } from './TimeField';
import { ViolationField } from './ViolationField';

const SUBMIT_ATTEMPTS = 3;

/** The filing rules until the citizen has read them once, then the form. */
export default function NewReport() {
  const { t } = useI18n();
  const [rulesRead, setRulesRead] = useState(() => localStorage.getItem(RULES_READ_KEY) === '1');
  if (!rulesRead) {
    return (
      <Page title={t.rules.title}>
        <RulesList />
        <button
          type="button"
          className="primary"
          onClick={() => {
            localStorage.setItem(RULES_READ_KEY, '1');
            setRulesRead(true);
          }}
        >
          {t.rules.ok}
        </button>
      </Page>
    );
  }
  return <ReportForm />;
}

function ReportForm() {
  const { t } = useI18n();
  const errorText = useErrorText();
  const [form, dispatch] = useReducer(formReducer, initialForm);
  const sent = useRef<{ key: string; body: string } | null>(null);
  const missingRef = useRef<HTMLDivElement>(null);
  const derived = derive(form, Date.now());
  const { missing, uploading } = derived;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (missing.length > 0 || uploading) {
      dispatch({ type: 'sendRefused' });
      requestAnimationFrame(() => missingRef.current?.focus());
      return;
    }
    const body = reportBody(form, derived);
    // One key per report as sent: a retry of the same report reuses it (the server answers with the report it
    // already filed); a changed report is a new request with a new key.
    const json = JSON.stringify(body);
    if (sent.current?.body !== json) sent.current = { key: newIdempotencyKey(), body: json };
    const key = sent.current.key;
    dispatch({ type: 'sendStarted' });
    for (let attempt = 1; ; attempt++) {
      try {
        const accepted = await api<Accepted>('/v1/reports', { body, headers: { 'idempotency-key': key } });
        navigate(`/reports/${accepted.id}`);
        return;
      } catch (err) {
        const retryable = asApiError(err).status === 0 || asApiError(err).status === 503;
        if (!retryable || attempt >= SUBMIT_ATTEMPTS) {
          dispatch({ type: 'sendFailed', error: err });
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  };

  return (
    <Page title={t.form.title}>
      <form onSubmit={submit} className="form report-form" noValidate>
        <EvidenceField uploads={form.uploads} dispatch={dispatch} />
        <ViolationField violation={form.violation} dispatch={dispatch} />
        <PlateField
          plate={form.plate}
          touched={form.plateTouched}
          check={derived.plateCheck}
          dispatch={dispatch}
        />
        <PlaceField place={form.place} from={form.placeFrom} dispatch={dispatch} />
        <TimeField time={form.time} from={form.timeFrom} problem={derived.timeProblem} dispatch={dispatch} />

        <div className="field">
          <label htmlFor="description">{t.form.description}</label>
          <textarea
            id="description"
            rows={3}
            maxLength={2000}
            value={form.description}
            onChange={(e) => dispatch({ type: 'descriptionTyped', value: e.target.value })}
          />
        </div>

        {form.showMissing && (missing.length > 0 || uploading) ? (
          <div className="error-box" role="alert" tabIndex={-1} ref={missingRef}>
            {missing.length > 0 ? (
              <p>
                {t.form.missing} {missing.map((m) => t.form[m]).join(', ')}
              </p>
            ) : null}
            {uploading ? <p>{t.form.waitUpload}</p> : null}
          </div>
        ) : null}
        {form.submitError ? (
          <div className="error-box" role="alert">
            <p>
              {errorText(form.submitError)}
              {form.submitError instanceof ApiError && form.submitError.field
                ? ` (${form.submitError.field})`
                : ''}
            </p>
          </div>
        ) : null}
        <button type="submit" className="primary big" disabled={form.submitting} data-testid="submit">
          {form.submitting ? t.form.submitting : t.form.submit}
        </button>
      </form>
    </Page>
  );
}
