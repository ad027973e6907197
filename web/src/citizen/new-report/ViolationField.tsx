import { type Dispatch, useEffect, useId, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { ViolationType } from '../../api/types';
import { ErrorNote, Loading } from '../../app/common';
import { ACTIVE_VIOLATION_TYPES } from '../../app/prefetch';
import { localName, useI18n } from '../../i18n';
import type { FormAction } from './reducer';

/** The violation, picked from the active types, narrowed by words or the article typed into the search. */
export function ViolationField({
  violation,
  dispatch,
}: {
  violation: string | null;
  dispatch: Dispatch<FormAction>;
}) {
  const { t, lang, fmt } = useI18n();
  const search = useId();
  const [types, setTypes] = useState<ViolationType[] | null>(null);
  const [typesError, setTypesError] = useState<unknown>(null);
  const [query, setQuery] = useState('');

  const loadTypes = () => {
    setTypesError(null);
    api<{ items: ViolationType[] }>(ACTIVE_VIOLATION_TYPES).then((r) => setTypes(r.items), setTypesError);
  };
  useEffect(loadTypes, []);

  const filtered = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return (types ?? []).filter((v) => {
      const hay = `${v.code} ${localName(v.name, lang)} ${v.name.en}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }, [types, query, lang]);
  const selected = types?.find((v) => v.code === violation) ?? null;

  return (
    <fieldset>
      <legend>{t.form.violation}</legend>
      <label htmlFor={search}>{t.form.violationSearch}</label>
      <input
        id={search}
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder={t.form.violationSearchHint}
        autoComplete="off"
      />
      {selected ? (
        <p className="selected" aria-live="polite">
          ✓ {localName(selected.name, lang)} ({selected.code})
        </p>
      ) : null}
      {typesError ? <ErrorNote error={typesError} onRetry={loadTypes} /> : null}
      {!types ? (
        typesError ? null : (
          <Loading />
        )
      ) : (
        <div className="choices" data-testid="violations">
          {filtered.length === 0 ? <p>{t.form.noMatches}</p> : null}
          {filtered.map((v) => (
            <label key={v.code} className={`choice${violation === v.code ? ' chosen' : ''}`}>
              <input
                type="radio"
                name="violation"
                value={v.code}
                checked={violation === v.code}
                onChange={() => dispatch({ type: 'violationChosen', code: v.code })}
              />
              <span>
                <span className="choice-title">{localName(v.name, lang)}</span>
                <span className="hint">
                  {v.code}
                  {v.fineToday ? ` · ${t.form.fineFrom(fmt.money(v.fineToday.sumMin))}` : ''}
                </span>
              </span>
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}
