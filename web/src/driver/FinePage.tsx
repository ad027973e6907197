import type { Static } from '@sinclair/typebox';
import { type FormEvent, useId, useMemo, useState } from 'react';
import type { DriverCase, LookupResponse } from '../../../src/driver/driver.schema.js';
import { formatPlate } from '../../../src/reference/plates.js';
import { type CallSession, request } from '../api/client';
import { ErrorNote, Page } from '../app/common';
import { localName, useI18n } from '../i18n';
import { boundsOf } from '../lib/geo';
import { BoundaryMap } from '../map/BoundaryMap';
import { useAreas } from '../map/boundaries';
import { Appeal } from './Appeal';

type Case = Static<typeof DriverCase>;
type Lookup = Static<typeof LookupResponse>;

/** The driver has no account: no bearer, and a refusal ends nothing. */
const DRIVER_JSON: CallSession = { accept: 'application/json', header: () => ({}), onRefused: () => {} };

/**
 * `/fine`: the driver enters the plate and the ruling number and sees the case — the violation, where and when, the
 * fine and its deadline, the appeal deadline, the points, and the evidence as drivers are shown it. The token stays in memory only: a
 * reload asks for the plate and ruling again.
 */
export default function FinePage() {
  const { t } = useI18n();
  const [opened, setOpened] = useState<Lookup | null>(null);
  return (
    <Page title={t.driver.title}>
      {opened ? (
        <>
          <CaseView token={opened.caseToken} c={opened.case} />
          <Appeal caseToken={opened.caseToken} case={opened.case} />
          <p className="row">
            <button type="button" className="primary-outline" onClick={() => setOpened(null)}>
              {t.driver.another}
            </button>
          </p>
        </>
      ) : (
        <LookupForm onFound={setOpened} />
      )}
    </Page>
  );
}

function LookupForm({ onFound }: { onFound: (l: Lookup) => void }) {
  const { t } = useI18n();
  const [plate, setPlate] = useState('');
  const [ruling, setRuling] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const plateId = useId();
  const rulingId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await request(
        '/v1/fines/lookup',
        { method: 'POST', body: { plate, rulingNumber: ruling } },
        DRIVER_JSON,
      );
      onFound((await res.json()) as Lookup);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="form" data-testid="fine-lookup">
      <p>{t.driver.intro}</p>
      <label htmlFor={plateId}>{t.driver.plate}</label>
      <input
        id={plateId}
        value={plate}
        onChange={(e) => setPlate(e.target.value)}
        required
        minLength={2}
        maxLength={16}
        autoComplete="off"
        placeholder="01 A 123 BC"
      />
      <label htmlFor={rulingId}>{t.driver.ruling}</label>
      <input
        id={rulingId}
        value={ruling}
        onChange={(e) => setRuling(e.target.value)}
        required
        minLength={4}
        maxLength={32}
        inputMode="numeric"
        autoComplete="off"
      />
      {error ? <ErrorNote error={error} /> : null}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? t.app.loading : t.driver.find}
      </button>
    </form>
  );
}

function CaseView({ token, c }: { token: string; c: Case }) {
  const { t, lang, fmt } = useI18n();
  const regions = useAreas('region').areas;
  const home = useMemo(() => (regions ? boundsOf(regions) : null), [regions]);
  const focus = useMemo(() => ({ lon: c.place.lon, lat: c.place.lat, seq: 1 }), [c.place.lon, c.place.lat]);
  const src = (url: string) => `${url}?case=${encodeURIComponent(token)}`;
  const place = [c.place.district, c.place.region].filter(Boolean).join(', ');

  return (
    <div data-testid="fine-case">
      <section className="status-panel" aria-live="polite">
        <p className={`status status-${c.status}`}>{t.driver.status[c.status]}</p>
      </section>
      <dl className="facts">
        <dt>{t.driver.ruling}</dt>
        <dd>{c.rulingNumber}</dd>
        <dt>{t.driver.plate}</dt>
        <dd>{formatPlate(c.plate)}</dd>
        <dt>{t.driver.violation}</dt>
        <dd>
          {localName(c.violation.name, lang)} <span className="hint">({c.violation.code})</span>
        </dd>
        <dt>{t.driver.when}</dt>
        <dd>{fmt.dateTime(c.incidentAt)}</dd>
        <dt>{t.driver.where}</dt>
        <dd>{place || `${c.place.lat.toFixed(5)}, ${c.place.lon.toFixed(5)}`}</dd>
        <dt>{t.driver.fine}</dt>
        <dd>{c.fine.amountSum === null ? '—' : fmt.money(c.fine.amountSum)}</dd>
        {c.fine.payBy ? (
          <>
            <dt>{t.driver.payBy}</dt>
            <dd>{fmt.date(c.fine.payBy)}</dd>
          </>
        ) : null}
        {c.appealableUntil ? (
          <>
            <dt>{t.driver.appealBy}</dt>
            <dd data-testid="appeal-by">{fmt.dateTime(c.appealableUntil)}</dd>
          </>
        ) : null}
        <dt>{t.driver.points}</dt>
        <dd>{c.penaltyPoints === null ? t.driver.noPoints : t.driver.pointsValue(c.penaltyPoints)}</dd>
      </dl>
      {regions && home ? (
        <BoundaryMap areas={regions} home={home} label={t.driver.map} marker={c.place} focusOn={focus} />
      ) : null}
      <h2>{t.driver.evidence}</h2>
      <p className="hint">{t.driver.evidenceNote}</p>
      <div className="evidence-list">
        {c.evidence.map((e, i) =>
          e.kind === 'photo' ? (
            <img key={e.id} src={src(e.url)} alt={t.driver.photo(i + 1)} loading="lazy" />
          ) : (
            // biome-ignore lint/a11y/useMediaCaption: evidence videos have no speech to caption
            <video
              key={e.id}
              src={src(e.url)}
              controls
              preload="metadata"
              aria-label={t.driver.video(i + 1)}
            />
          ),
        )}
      </div>
    </div>
  );
}
