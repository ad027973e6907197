import type { Static } from '@sinclair/typebox';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type {
  AppealDecisionKind,
  AppealDetail as AppealDetailSchema,
  QueueItem,
  QueueResponse,
} from '../../../../src/appeals/appeals.schema.js';
import { APPEAL_DECISIONS } from '../../../../src/appeals/appeals.schema.js';
import { formatPlate } from '../../../../src/reference/plates.js';
import type { ViolationType } from '../../api/types';
import { Loading, Page } from '../../app/common';
import { ALL_VIOLATION_TYPES } from '../../app/prefetch';
import { Link } from '../../app/router';
import { localName, textFor } from '../../i18n';
import { StaffError, useStaffText } from '../i18n';
import { useEvidenceFile } from '../media';
import { ScrollRegion } from '../ScrollRegion';
import { StaffGate } from '../StaffFrame';
import { SUPERVISOR_ROLES, staffApi } from '../session';

type AppealDetail = Static<typeof AppealDetailSchema>;
type Attachment = AppealDetail['appeal']['attachments'][number];

/**
 * /staff/appeals (supervisors and administrators): the unit's drivers' appeals by deadline; take the next one (a
 * lease), read it with its attachments and the case, decide it — uphold, cancel, or correct the violation — or give
 * it back.
 */
export default function AppealsPage() {
  const { s } = useStaffText();
  return (
    <StaffGate roles={SUPERVISOR_ROLES}>
      <Page title={s.appeals.title} wide>
        <AppealsConsole />
      </Page>
    </StaffGate>
  );
}

function AppealsConsole() {
  const { s } = useStaffText();
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [empty, setEmpty] = useState(false);
  const load = useCallback(async () => {
    try {
      setItems((await staffApi<Static<typeof QueueResponse>>('/v1/appeals?limit=100')).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const takeNext = async () => {
    setError(null);
    setEmpty(false);
    try {
      const { id } = await staffApi<{ id: string | null }>('/v1/appeals/next', { method: 'POST' });
      if (id) setOpen(id);
      else setEmpty(true);
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <section aria-labelledby="appeals-queue-title" data-testid="appeals-queue">
        <h2 id="appeals-queue-title">{s.appeals.queue}</h2>
        <p className="row">
          <button type="button" className="primary" onClick={takeNext}>
            {s.appeals.takeNext}
          </button>
          <button type="button" onClick={load}>
            {s.supervisor.refresh}
          </button>
        </p>
        {empty ? <p role="status">{s.appeals.nothingFree}</p> : null}
        {error ? <StaffError error={error} onRetry={load} /> : null}
        {items === null ? (
          error ? null : (
            <Loading />
          )
        ) : items.length === 0 ? (
          <p>{s.appeals.noneOpen}</p>
        ) : (
          <QueueTable items={items} onOpen={setOpen} />
        )}
      </section>
      {open ? (
        <AppealView
          key={open}
          id={open}
          onChanged={load}
          onClose={() => {
            setOpen(null);
            void load();
          }}
        />
      ) : null}
    </>
  );
}

function QueueTable({ items, onOpen }: { items: QueueItem[]; onOpen: (id: string) => void }) {
  const { s, fmt } = useStaffText();
  return (
    <ScrollRegion label={s.appeals.queue}>
      <table>
        <thead>
          <tr>
            <th scope="col">{s.appeals.appeal}</th>
            <th scope="col">{s.appeals.status}</th>
            <th scope="col">{s.appeals.filedAt}</th>
            <th scope="col">{s.appeals.due}</th>
            <th scope="col">{s.appeals.holder}</th>
            <th scope="col">
              <span className="sr-only">{s.supervisor.actions}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id} data-appeal={a.id} data-overdue={a.overdue || undefined}>
              <td>{a.id.slice(0, 8)}…</td>
              <td>{s.appeals.statuses[a.status]}</td>
              <td>{fmt.dateTime(a.filedAt)}</td>
              <td>
                {fmt.dateTime(a.slaDueAt)}
                {a.overdue ? <strong> · {s.appeals.overdue}</strong> : null}
              </td>
              <td>
                {a.lease ? (a.lease.mine ? s.appeals.heldByMe : s.appeals.heldByOther) : s.appeals.free}
              </td>
              <td>
                <button type="button" onClick={() => onOpen(a.id)}>
                  {s.appeals.open}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function AppealView({ id, onChanged, onClose }: { id: string; onChanged: () => void; onClose: () => void }) {
  const { s, lang, fmt } = useStaffText();
  const [detail, setDetail] = useState<AppealDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setDetail(await staffApi<AppealDetail>(`/v1/appeals/${id}`));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  const release = async () => {
    setError(null);
    try {
      await staffApi(`/v1/appeals/${id}/release`, { method: 'POST' });
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  if (!detail) return error ? <StaffError error={error} onRetry={load} /> : <Loading />;
  const a = detail.appeal;
  const r = detail.case.report;
  const mine = a.lease?.mine === true;
  return (
    <section aria-labelledby="appeal-title" data-testid="appeal-detail" data-appeal={a.id}>
      <h2 id="appeal-title">{s.appeals.appealOf(a.id.slice(0, 8))}</h2>
      <dl className="facts">
        <dt>{s.appeals.status}</dt>
        <dd>{s.appeals.statuses[a.status]}</dd>
        <dt>{s.appeals.filedAt}</dt>
        <dd>{fmt.dateTime(a.filedAt)}</dd>
        <dt>{s.appeals.due}</dt>
        <dd>
          {fmt.dateTime(a.slaDueAt)}
          {a.overdue ? ` · ${s.appeals.overdue}` : ''}
        </dd>
        <dt>{s.appeals.holder}</dt>
        <dd>
          {a.lease
            ? `${a.lease.mine ? s.appeals.heldByMe : s.appeals.heldByOther} · ${fmt.dateTime(a.lease.expiresAt)}`
            : s.appeals.free}
        </dd>
        <dt>{s.appeals.contact}</dt>
        <dd>{a.contactPhone}</dd>
      </dl>
      <h3>{s.appeals.grounds}</h3>
      <p className="description">{a.text}</p>
      <h3>{s.appeals.attachments}</h3>
      {a.attachments.length === 0 ? (
        <p>{s.appeals.noAttachments}</p>
      ) : (
        <div className="evidence-list">
          {a.attachments.map((f, i) => (
            <AttachmentView key={f.id} file={f} n={i + 1} />
          ))}
        </div>
      )}
      <h3>{s.appeals.theCase}</h3>
      <dl className="facts">
        <dt>{s.appeals.plate}</dt>
        <dd>{formatPlate(r.plate)}</dd>
        <dt>{s.appeals.violation}</dt>
        <dd>
          {localName(r.violation.name, lang)} <span className="hint">({r.violation.code})</span>
        </dd>
        <dt>{s.appeals.incidentAt}</dt>
        <dd>{fmt.dateTime(r.incidentAt)}</dd>
        <dt>{s.appeals.reportStatus}</dt>
        <dd>{r.status}</dd>
      </dl>
      <p>
        <Link to={`/inspector/review/${a.reportId}`}>{s.appeals.openReport}</Link>
      </p>
      {error ? <StaffError error={error} /> : null}
      {a.status === 'decided' ? (
        <Decided detail={detail} />
      ) : mine ? (
        <>
          <DecisionForm
            detail={detail}
            onDone={() => {
              onChanged();
              void load();
            }}
          />
          <button type="button" onClick={release}>
            {s.appeals.release}
          </button>
        </>
      ) : (
        <p className="hint">{s.appeals.takeToDecide}</p>
      )}
      <p>
        <button type="button" className="link" onClick={onClose}>
          {s.appeals.close}
        </button>
      </p>
    </section>
  );
}

/** A driver's file, fetched with the staff token (the URL alone opens nothing). */
function AttachmentView({ file, n }: { file: Attachment; n: number }) {
  const { s } = useStaffText();
  const state = useEvidenceFile(file.url);
  if (state.state === 'failed') return <StaffError error={state.error} />;
  if (state.state === 'loading') return <Loading />;
  return file.kind === 'photo' ? (
    <img src={state.url} alt={s.appeals.attachment(n)} />
  ) : (
    // biome-ignore lint/a11y/useMediaCaption: a driver's video has no speech to caption
    <video src={state.url} controls preload="metadata" aria-label={s.appeals.attachment(n)} />
  );
}

function Decided({ detail }: { detail: AppealDetail }) {
  const { s, fmt } = useStaffText();
  const a = detail.appeal;
  return (
    <dl className="facts" data-testid="appeal-decided">
      <dt>{s.appeals.decision}</dt>
      <dd>
        {a.decision ? s.appeals.decisions[a.decision] : '—'}
        {a.correctedViolationCode ? ` (${a.correctedViolationCode})` : ''}
      </dd>
      <dt>{s.appeals.reason}</dt>
      <dd>{a.reasonCode ? textFor(s.appeals.reasons, a.reasonCode, a.reasonCode) : '—'}</dd>
      {a.note ? (
        <>
          <dt>{s.appeals.note}</dt>
          <dd>{a.note}</dd>
        </>
      ) : null}
      <dt>{s.appeals.decidedAt}</dt>
      <dd>{a.decidedAt ? fmt.dateTime(a.decidedAt) : '—'}</dd>
      <dt>{s.appeals.registry}</dt>
      <dd>{a.registrySentAt ? fmt.dateTime(a.registrySentAt) : s.appeals.notYetSent}</dd>
    </dl>
  );
}

let violationTypes: Promise<ViolationType[]> | null = null;
function loadViolationTypes(): Promise<ViolationType[]> {
  violationTypes ??= staffApi<{ items: ViolationType[] }>(ALL_VIOLATION_TYPES).then((r) => r.items);
  violationTypes.catch(() => {
    violationTypes = null;
  });
  return violationTypes;
}

/** POST /v1/appeals/:id/decision: only by the holder of the lease. */
function DecisionForm({ detail, onDone }: { detail: AppealDetail; onDone: () => void }) {
  const { s, lang } = useStaffText();
  const [decision, setDecision] = useState<AppealDecisionKind | ''>('');
  const [violation, setViolation] = useState('');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [types, setTypes] = useState<ViolationType[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (decision !== 'correct' || types.length > 0) return;
    loadViolationTypes().then(setTypes, setError);
  }, [decision, types.length]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await staffApi(`/v1/appeals/${detail.appeal.id}/decision`, {
        body: {
          decision,
          reasonCode: reason,
          ...(decision === 'correct' ? { violationCode: violation } : {}),
          ...(note.trim() ? { note: note.trim() } : {}),
        },
      });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const current = detail.case.report.violation.code;
  return (
    <form onSubmit={submit} className="form" data-testid="appeal-decision">
      <fieldset>
        <legend>{s.appeals.decision}</legend>
        {APPEAL_DECISIONS.map((d) => (
          <label key={d}>
            <input
              type="radio"
              name="appeal-decision"
              value={d}
              checked={decision === d}
              onChange={() => setDecision(d)}
            />{' '}
            {s.appeals.decisions[d]}
          </label>
        ))}
      </fieldset>
      {decision === 'correct' ? (
        <label htmlFor="appeal-violation">
          {s.appeals.correctTo}
          <select
            id="appeal-violation"
            required
            value={violation}
            onChange={(e) => setViolation(e.target.value)}
          >
            <option value="">—</option>
            {types
              .filter((v) => v.code !== current)
              .map((v) => (
                <option key={v.code} value={v.code}>
                  {v.code} · {localName(v.name, lang)}
                </option>
              ))}
          </select>
        </label>
      ) : null}
      <label htmlFor="appeal-reason">
        {s.appeals.reason}
        <select id="appeal-reason" required value={reason} onChange={(e) => setReason(e.target.value)}>
          <option value="">—</option>
          {detail.reasons.map((code) => (
            <option key={code} value={code}>
              {textFor(s.appeals.reasons, code, code)}
            </option>
          ))}
        </select>
      </label>
      <label htmlFor="appeal-note">
        {s.appeals.note}
        <textarea
          id="appeal-note"
          value={note}
          maxLength={2000}
          rows={3}
          onChange={(e) => setNote(e.target.value)}
        />
      </label>
      {error ? <StaffError error={error} /> : null}
      <button
        type="submit"
        className="primary"
        disabled={busy || !decision || !reason || (decision === 'correct' && !violation)}
      >
        {s.appeals.decide}
      </button>
    </form>
  );
}
