import { Link } from '../../app/router';
import { Plate } from '../../citizen/parts';
import { localName } from '../../i18n';
import { placeName, useAreaNames } from '../areas';
import { useStaffText } from '../i18n';
import type { Finding, Review } from '../types';
import { Countdown, findingName, Priority } from './parts';

/** A finding's details in a line: "minutes: 42, cameraTime: …" — the analyze stage decides what they are. */
function detailText(detail: Record<string, unknown> | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .filter(([k]) => k !== 'otherReportId')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The claim (what, where, when), the automated findings and the related reports. Never the reporter. */
export function ReportFacts({ data }: { data: Review }) {
  const { s, t, lang, fmt } = useStaffText();
  const r = data.report;
  const review = r.review;
  const regions = useAreaNames('region');
  const districts = useAreaNames('district');
  const findings = (review?.findings ?? []) as unknown as Finding[];
  const evidenceNo = new Map(data.evidence.map((e, i) => [e.id, i + 1]));
  const place = placeName(t, regions, districts, review?.regionId ?? null, review?.districtId ?? null);
  return (
    <>
      <section aria-labelledby="claim-title">
        <h2 id="claim-title">{s.review.claim}</h2>
        <dl className="facts">
          <dt>{s.review.violation}</dt>
          <dd data-testid="violation">
            {localName(r.violation.name, lang)} <span className="hint">({r.violation.code})</span>
          </dd>
          <dt>{s.review.plate}</dt>
          <dd>
            <Plate plate={r.plate} />
            {review?.plateRegionCode ? (
              <span className="hint"> {s.review.plateRegion(review.plateRegionCode)}</span>
            ) : null}
          </dd>
          <dt>{s.review.incidentAt}</dt>
          <dd>{fmt.dateTime(r.incidentAt)}</dd>
          <dt>{s.review.place}</dt>
          <dd>
            {place ? `${place}, ` : ''}
            <span className="hint">
              {r.location.lat.toFixed(5)}, {r.location.lon.toFixed(5)}
            </span>
          </dd>
          <dt>{s.review.receivedAt}</dt>
          <dd>{fmt.dateTime(r.receivedAt)}</dd>
          <dt>{s.review.description}</dt>
          <dd className="description">{r.description ?? <span className="hint">—</span>}</dd>
          <dt>{s.queue.priority}</dt>
          <dd>{review?.priority != null ? <Priority value={review.priority} /> : '—'}</dd>
          <dt>{s.queue.deadline}</dt>
          <dd>
            <Countdown due={review?.slaDueAt ?? null} />
          </dd>
        </dl>
      </section>

      <section aria-labelledby="findings-title">
        <h2 id="findings-title">{s.review.findings}</h2>
        {findings.length ? (
          <ul className="findings" data-testid="findings">
            {findings.map((f) => (
              <li
                key={`${f.type}:${f.evidenceId ?? ''}:${detailText(f.detail)}`}
                className={`finding finding-${f.severity === 'warning' ? 'warning' : 'info'}`}
              >
                <strong>{findingName(s, f.type)}</strong>
                {f.evidenceId && evidenceNo.has(f.evidenceId) ? (
                  <span className="hint"> · {s.review.onEvidence(evidenceNo.get(f.evidenceId)!)}</span>
                ) : null}
                {f.detail ? <span className="hint finding-detail">{detailText(f.detail)}</span> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="hint">{s.findingsNone}</p>
        )}
      </section>

      <section aria-labelledby="related-title">
        <h2 id="related-title">{s.review.related}</h2>
        {data.related.length ? (
          <ul className="related" data-testid="related">
            {data.related.map((x) => (
              <li key={x.id + x.relation}>
                {s.relation[x.relation]}: <Link to={`/inspector/review/${x.id}`}>{x.id.slice(0, 8)}</Link>{' '}
                <span className="hint">({t.status[x.status as keyof typeof t.status] ?? x.status})</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="hint">{s.review.noRelated}</p>
        )}
      </section>
    </>
  );
}
