import { type Dispatch, useId } from 'react';
import { useI18n } from '../../i18n';
import { toTashkentLocal } from '../../lib/time';
import { type Derived, type FormAction, FUTURE_SKEW_MS, type MetadataSource } from './reducer';

/** When it happened, on Tashkent's clock; the hint says which file it came from or what is wrong with it. */
export function TimeField({
  time,
  from,
  problem,
  dispatch,
}: {
  time: string;
  from: MetadataSource | null;
  problem: Derived['timeProblem'];
  dispatch: Dispatch<FormAction>;
}) {
  const { t } = useI18n();
  const ids = { input: useId(), hint: useId() };
  return (
    <div className="field">
      <label htmlFor={ids.input}>{t.form.time}</label>
      <div className="row">
        <input
          id={ids.input}
          type="datetime-local"
          value={time}
          max={toTashkentLocal(new Date(Date.now() + FUTURE_SKEW_MS))}
          onChange={(e) => dispatch({ type: 'timeSet', time: e.target.value })}
          aria-describedby={ids.hint}
          aria-invalid={problem !== null}
          data-testid="incident-time"
        />
        <button
          type="button"
          onClick={() => dispatch({ type: 'timeSet', time: toTashkentLocal(new Date()) })}
        >
          {t.form.timeNow}
        </button>
      </div>
      <p id={ids.hint} className={problem ? 'error' : 'hint'} data-testid="time-hint">
        {problem
          ? t.form[problem]
          : from === 'photo'
            ? t.form.timeFromPhoto
            : from === 'video'
              ? t.form.timeFromVideo
              : t.form.timeHint}
      </p>
    </div>
  );
}
