import { textFor } from '../../i18n';
import { useStaffText } from '../i18n';
import { clock, useNow } from '../time';
import type { Lease } from '../types';

/** Time left to a deadline, ticking; past it, the time overdue, marked in words as well as colour. */
export function Countdown({ due, label }: { due: string | null; label?: string }) {
  const { s, fmt } = useStaffText();
  const now = useNow();
  if (!due) return <span className="hint">—</span>;
  const left = Date.parse(due) - now;
  const late = left < 0;
  return (
    <span
      className={`countdown${late ? ' late' : left < 3600_000 ? ' soon' : ''}`}
      title={fmt.dateTime(due)}
      data-testid="countdown"
    >
      {label ? <span className="sr-only">{label}: </span> : null}
      <span className="countdown-time">{late ? `−${clock(left)}` : clock(left)}</span>{' '}
      <span className="countdown-word">{late ? s.countdown.overdue : s.countdown.left}</span>
    </span>
  );
}

/** Who holds a report: nobody, you (and for how long), or another inspector. */
export function Holder({ lease }: { lease: Lease }) {
  const { s } = useStaffText();
  const now = useNow();
  if (!lease) return <span className="holder free">{s.holder.free}</span>;
  const left = clock(Math.max(0, Date.parse(lease.expiresAt) - now));
  return lease.mine ? (
    <span className="holder mine" data-holder="me">
      {s.holder.you(left)}
    </span>
  ) : (
    <span className="holder other" data-holder="other" title={lease.inspectorId}>
      {s.holder.other(lease.inspectorId.slice(0, 8), left)}
    </span>
  );
}

/** Priority 0–100 (higher is reviewed first), with its band in words for those who cannot see the colour. */
export function Priority({ value }: { value: number }) {
  const { s } = useStaffText();
  const band = value >= 70 ? 'high' : value >= 40 ? 'mid' : 'low';
  return (
    <span className={`priority priority-${band}`} title={s.priority[band]}>
      {value}
      <span className="sr-only"> ({s.priority[band]})</span>
    </span>
  );
}

export function findingName(s: ReturnType<typeof useStaffText>['s'], type: string): string {
  return textFor(s.findings, type, type.replaceAll('_', ' '));
}

export function FindingTags({ types }: { types: string[] }) {
  const { s } = useStaffText();
  if (!types.length) return <span className="hint">{s.findingsNone}</span>;
  return (
    <ul className="tags">
      {[...new Set(types)].map((f) => (
        <li key={f} className="tag">
          {findingName(s, f)}
        </li>
      ))}
    </ul>
  );
}
