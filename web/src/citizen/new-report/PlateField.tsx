import { type Dispatch, useId } from 'react';
import type { PlateCheck } from '../../../../src/reference/plates.js';
import { useI18n } from '../../i18n';
import type { FormAction } from './reducer';

/** The plate, checked as it is typed: red only once what is typed can no longer become a plate. */
export function PlateField({
  plate,
  touched,
  check,
  dispatch,
}: {
  plate: string;
  touched: boolean;
  check: PlateCheck;
  dispatch: Dispatch<FormAction>;
}) {
  const { t } = useI18n();
  const ids = { input: useId(), status: useId() };
  const message =
    check.state === 'valid'
      ? `✓ ${t.plate.valid(t.plate.formats[check.format], check.regionName)}`
      : check.state === 'invalid'
        ? t.plate.invalid
        : check.state === 'partial' && touched
          ? t.plate.partial
          : t.plate.example;
  return (
    <div className="field">
      <label htmlFor={ids.input}>{t.form.plate}</label>
      <input
        id={ids.input}
        className={`plate-input ${check.state}`}
        value={plate}
        onChange={(e) => dispatch({ type: 'plateTyped', value: e.target.value })}
        onBlur={() => dispatch({ type: 'plateLeft' })}
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={20}
        aria-invalid={check.state === 'invalid'}
        aria-describedby={ids.status}
        placeholder="01 A 123 BC"
        data-testid="plate"
      />
      <p
        id={ids.status}
        className={check.state === 'invalid' ? 'error' : check.state === 'valid' ? 'ok' : 'hint'}
        aria-live="polite"
        data-plate-state={check.state}
      >
        {message}
      </p>
    </div>
  );
}
