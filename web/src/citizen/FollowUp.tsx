import { useEffect, useId, useReducer, useState } from 'react';
import { checkPlate, formatPlate } from '../../../src/reference/plates.js';
import { ApiError, api } from '../api/client';
import type { Report, ViolationType } from '../api/types';
import { ErrorNote, useErrorText } from '../app/common';
import { ACTIVE_VIOLATION_TYPES } from '../app/prefetch';
import { localName, useI18n } from '../i18n';
import { tashkentLocalToIso, toTashkentLocal } from '../lib/time';
import { EvidenceField } from './new-report/EvidenceField';
import { PlaceField } from './new-report/PlaceField';
import { PlateField } from './new-report/PlateField';
import { derive, type FormState, formReducer, initialForm } from './new-report/reducer';
import { TimeField } from './new-report/TimeField';

/**
 * What the citizen can still do on a report: answer the inspector's question (words and more files), or — until
 * review starts — withdraw it or correct any of its claims. `onChanged` reloads the page's report.
 */
export function FollowUp({ report, onChanged }: { report: Report; onChanged: () => void }) {
  if (report.status === 'needs_info' && report.question !== null)
    return <Answer report={report} question={report.question} onChanged={onChanged} />;
  if (report.changeable) return <Change report={report} onChanged={onChanged} />;
  return null;
}

/** Sends one follow-up call; the page reloads on success, the error stays on screen otherwise. */
function useSend(onChanged: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const send = async (path: string, method: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      await api<Report>(path, { method, ...(body === undefined ? {} : { body }) });
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, send };
}

function Answer({
  report,
  question,
  onChanged,
}: {
  report: Report;
  question: string;
  onChanged: () => void;
}) {
  const { t } = useI18n();
  // The new-report form's state, of which only the files are used: the evidence field is the same one.
  const [files, dispatch] = useReducer(formReducer, initialForm);
  const [text, setText] = useState('');
  const { busy, error, send } = useSend(onChanged);
  const done = files.uploads.filter((u) => u.state === 'done' && u.evidence).map((u) => u.evidence!.id);
  const uploading = files.uploads.some((u) => u.state === 'uploading');
  const empty = text.trim() === '' && done.length === 0;
  return (
    <section className="follow-up" data-testid="follow-up-answer">
      <h2>{t.followUp.question}</h2>
      <blockquote data-testid="question">{question}</blockquote>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (empty || uploading) return;
          void send(`/v1/reports/${encodeURIComponent(report.id)}/answer`, 'POST', {
            ...(text.trim() ? { text: text.trim() } : {}),
            ...(done.length ? { evidenceIds: done } : {}),
          });
        }}
      >
        <label>
          {t.followUp.answer}
          <textarea
            value={text}
            maxLength={2000}
            onChange={(e) => setText(e.target.value)}
            data-testid="answer-text"
          />
        </label>
        <EvidenceField uploads={files.uploads} dispatch={dispatch} />
        {error ? <ErrorNote error={error} /> : null}
        <button type="submit" disabled={busy || empty || uploading}>
          {t.followUp.send}
        </button>
        <p className="hint">{t.followUp.answerHint}</p>
      </form>
    </section>
  );
}

/** Withdraw or correct, until review starts. */
function Change({ report, onChanged }: { report: Report; onChanged: () => void }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const { busy, error, send } = useSend(onChanged);
  const path = `/v1/reports/${encodeURIComponent(report.id)}`;
  return (
    <section className="follow-up" data-testid="follow-up-change">
      <p className="hint">{t.followUp.changeHint}</p>
      {editing ? (
        <Correction report={report} onChanged={onChanged} onCancel={() => setEditing(false)} />
      ) : (
        <>
          <p className="row">
            <button type="button" onClick={() => setEditing(true)}>
              {t.followUp.correct}
            </button>
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => {
                if (window.confirm(t.followUp.withdrawConfirm)) void send(`${path}/withdraw`, 'POST');
              }}
            >
              {t.followUp.withdraw}
            </button>
          </p>
          {error ? <ErrorNote error={error} /> : null}
        </>
      )}
    </section>
  );
}

/** The report's claims as the new-report form holds them: the correction starts from what was filed. */
function formOf(report: Report): FormState {
  return {
    ...initialForm,
    violation: report.violation.code,
    plate: formatPlate(report.plate),
    place: { lat: report.location.lat, lon: report.location.lon },
    time: toTashkentLocal(new Date(report.incidentAt)),
    description: report.description ?? '',
  };
}

/**
 * The body of `PATCH /v1/reports/{id}`: only what differs from the report as filed, so the `corrected` event lists
 * what the citizen changed and nothing else. A plate typed differently but the same once normalised is unchanged.
 */
function correctionBody(report: Report, form: FormState): Record<string, string | number> {
  const filed = formOf(report);
  const body: Record<string, string | number> = {};
  const plate = checkPlate(form.plate);
  if (form.plate.trim() !== filed.plate && !(plate.state === 'valid' && plate.normalised === report.plate))
    body.plate = form.plate.trim();
  if (form.place && (form.place.lat !== report.location.lat || form.place.lon !== report.location.lon)) {
    body.lat = form.place.lat;
    body.lon = form.place.lon;
  }
  if (form.time !== filed.time) body.incidentAt = tashkentLocalToIso(form.time) ?? form.time;
  if (form.violation && form.violation !== report.violation.code) body.violationCode = form.violation;
  if (form.description.trim() !== filed.description) body.description = form.description.trim();
  return body;
}

/** Which field of the form an API error names (`lat` and `lon` are both the place). */
type FieldKey = 'plate' | 'place' | 'time' | 'violation' | 'description';
const FIELD_OF: Record<string, FieldKey> = {
  plate: 'plate',
  lat: 'place',
  lon: 'place',
  incidentAt: 'time',
  violationCode: 'violation',
  description: 'description',
};

function fieldOf(error: unknown): FieldKey | null {
  const field = error instanceof ApiError ? error.field?.split('.')[0] : undefined;
  return (field && FIELD_OF[field]) || null;
}

/** The API's refusal of one field, shown under that field. */
function FieldError({ error, field }: { error: unknown; field: FieldKey }) {
  const text = useErrorText();
  if (fieldOf(error) !== field) return null;
  return (
    <p className="error" role="alert" data-field-error={field}>
      {text(error)}
    </p>
  );
}

/**
 * Every claim the API lets the citizen correct, with the new-report form's own fields for plate, place and time
 * (the same checks as they are typed) and a list of the violation types it offers.
 */
function Correction({
  report,
  onChanged,
  onCancel,
}: {
  report: Report;
  onChanged: () => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [form, dispatch] = useReducer(formReducer, report, formOf);
  const [note, setNote] = useState<'nothingChanged' | 'fixFirst' | null>(null);
  const { busy, error, send } = useSend(onChanged);
  const derived = derive(form, Date.now());
  const body = correctionBody(report, form);
  // What the form itself can tell is wrong is not sent: the checks would only close the report for it.
  const wrong =
    ('plate' in body && derived.plateCheck.state !== 'valid') ||
    ('incidentAt' in body && (!derived.timeIso || derived.timeProblem !== null));

  return (
    <form
      className="form"
      data-testid="correction"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (Object.keys(body).length === 0) return setNote('nothingChanged');
        if (wrong) return setNote('fixFirst');
        setNote(null);
        void send(`/v1/reports/${encodeURIComponent(report.id)}`, 'PATCH', body);
      }}
    >
      <ViolationSelect
        value={form.violation ?? report.violation.code}
        current={report.violation}
        onChange={(code) => dispatch({ type: 'violationChosen', code })}
      />
      <FieldError error={error} field="violation" />
      <PlateField
        plate={form.plate}
        touched={form.plateTouched}
        check={derived.plateCheck}
        dispatch={dispatch}
      />
      <FieldError error={error} field="plate" />
      <PlaceField place={form.place} from={null} dispatch={dispatch} />
      <FieldError error={error} field="place" />
      <TimeField time={form.time} from={null} problem={derived.timeProblem} dispatch={dispatch} />
      <FieldError error={error} field="time" />
      <div className="field">
        <label htmlFor={`${report.id}-description`}>{t.followUp.description}</label>
        <textarea
          id={`${report.id}-description`}
          rows={3}
          value={form.description}
          maxLength={2000}
          onChange={(e) => dispatch({ type: 'descriptionTyped', value: e.target.value })}
        />
      </div>
      <FieldError error={error} field="description" />
      {note ? (
        <p className={note === 'fixFirst' ? 'error' : 'hint'} role="status" data-testid="correction-note">
          {t.followUp[note]}
        </p>
      ) : null}
      {error && !fieldOf(error) ? <ErrorNote error={error} /> : null}
      <p className="row">
        <button type="submit" disabled={busy}>
          {t.followUp.saveCorrection}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t.followUp.cancel}
        </button>
      </p>
    </form>
  );
}

/** The violation types the new-report form offers (the active ones), with the report's own kept if it is not. */
function ViolationSelect({
  value,
  current,
  onChange,
}: {
  value: string;
  current: Report['violation'];
  onChange: (code: string) => void;
}) {
  const { t, lang } = useI18n();
  const id = useId();
  const [types, setTypes] = useState<ViolationType[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const load = () => {
    setLoadError(null);
    api<{ items: ViolationType[] }>(ACTIVE_VIOLATION_TYPES).then((r) => setTypes(r.items), setLoadError);
  };
  useEffect(load, []);
  const listed = (types ?? []).map((v) => ({ code: v.code, name: v.name }));
  const options = listed.some((v) => v.code === current.code) ? listed : [current, ...listed];
  return (
    <div className="field">
      <label htmlFor={id}>{t.form.violation}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid="violation-select">
        {options.map((v) => (
          <option key={v.code} value={v.code}>
            {localName(v.name, lang)} ({v.code})
          </option>
        ))}
      </select>
      {loadError ? <ErrorNote error={loadError} onRetry={load} /> : null}
    </div>
  );
}
