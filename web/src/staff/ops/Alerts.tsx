import { Loading } from '../../app/common';
import { textFor } from '../../i18n';
import { useStaffText } from '../i18n';
import { ScrollRegion } from '../ScrollRegion';
import type { OpsAlerts } from '../types';

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** Alerts pending or firing now, worst first, and every rule with its last value (GET /v1/ops/alerts). */
export function AlertList({ alerts }: { alerts: OpsAlerts | null }) {
  const { s, fmt } = useStaffText();
  const rank: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  const order = (a: OpsAlerts['alerts'][number]) => (a.state === 'firing' ? 0 : 3) + (rank[a.severity] ?? 2);
  const severity = (v: string) => textFor(s.alerts.severities, v, v);
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">{s.alerts.title}</h2>
      {!alerts ? (
        <Loading />
      ) : alerts.alerts.length === 0 ? (
        <p className="ok" data-testid="alerts-none">
          {s.alerts.none}
        </p>
      ) : (
        <ul className="alerts" data-testid="alerts">
          {[...alerts.alerts]
            .sort((a, b) => order(a) - order(b))
            .map((a) => (
              <li key={a.rule + labelText(a.labels)} className={`alert alert-${a.state}`}>
                <span className={`badge severity-${a.severity}`}>{severity(a.severity)}</span>{' '}
                <span className="badge alert-state">{s.alerts.state[a.state]}</span> <strong>{a.rule}</strong>
                {Object.keys(a.labels).length ? <span className="hint"> {labelText(a.labels)}</span> : null}
                <p>{a.summary}</p>
                <p className="hint">
                  {s.alerts.since(fmt.dateTime(a.firedAt ?? a.activeAt))}
                  {a.value !== null ? ` · ${s.alerts.value(fmt.number(a.value))}` : ''}
                </p>
              </li>
            ))}
        </ul>
      )}
      {alerts?.rules.length ? (
        <details className="rules">
          <summary>{s.alerts.rules(alerts.rules.length)}</summary>
          <ScrollRegion label={s.alerts.rules(alerts.rules.length)}>
            <table className="ops-table">
              <thead>
                <tr>
                  <th scope="col">{s.alerts.rule}</th>
                  <th scope="col">{s.alerts.severity}</th>
                  <th scope="col">{s.alerts.expr}</th>
                  <th scope="col">{s.alerts.last}</th>
                </tr>
              </thead>
              <tbody>
                {alerts.rules.map((r) => (
                  <tr key={r.name}>
                    <th scope="row">{r.name}</th>
                    <td>{severity(r.severity)}</td>
                    <td>
                      <code>{r.expr}</code>
                    </td>
                    <td>
                      {r.values.length
                        ? r.values
                            .map(
                              (v) =>
                                `${fmt.number(Math.round(v.value * 1000) / 1000)}${Object.keys(v.labels).length ? ` (${labelText(v.labels)})` : ''}`,
                            )
                            .join('; ')
                        : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </details>
      ) : null}
    </section>
  );
}
