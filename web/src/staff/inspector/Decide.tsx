import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useStaffText } from '../i18n';
import { useShortcuts } from '../keys';
import { staffApi } from '../session';
import type { Reasons } from '../types';

let reasons: Promise<Reasons['items']> | null = null;
function loadReasons(): Promise<Reasons['items']> {
  reasons ??= staffApi<Reasons>('/v1/review/reasons').then((r) => r.items);
  reasons.catch(() => {
    reasons = null;
  });
  return reasons;
}

/** The key that picks the n-th reason: 1…9, then 0 for the tenth. */
const keyOf = (i: number) => (i < 9 ? String(i + 1) : i === 9 ? '0' : '');

/**
 * Rejecting: the reasons an inspector may give (GET /v1/review/reasons, in the citizen's words — what the citizen
 * will read), picked by number key or arrows, confirmed with Enter; Esc goes back.
 */
export function RejectPanel({
  codes,
  busy,
  onReject,
  onCancel,
}: {
  codes: string[];
  busy: boolean;
  onReject: (code: string) => void;
  onCancel: () => void;
}) {
  const { s, lang } = useStaffText();
  const [texts, setTexts] = useState<Map<string, string> | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const name = useId();

  useEffect(() => {
    loadReasons().then(
      (items) => setTexts(new Map(items.map((r) => [r.code, r.text[lang]]))),
      () => setTexts(new Map()),
    );
  }, [lang]);

  useEffect(() => {
    form.current?.querySelector<HTMLInputElement>('input[type="radio"]')?.focus();
  }, []);

  const pick = (i: number) => {
    const code = codes[i];
    if (!code) return;
    setChosen(code);
    form.current?.querySelector<HTMLInputElement>(`input[value="${code}"]`)?.focus();
  };
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (chosen && !busy) onReject(chosen);
  };

  useShortcuts({
    ...Object.fromEntries(codes.slice(0, 10).map((_, i) => [keyOf(i), () => pick(i)])),
    enter: () => submit(),
    escape: onCancel,
  });

  return (
    <form ref={form} className="reject" onSubmit={submit} data-testid="reject-panel">
      <fieldset>
        <legend>{s.decide.reasonLegend}</legend>
        <p className="hint">{s.decide.reasonHint}</p>
        <ol className="reasons">
          {codes.map((code, i) => (
            <li key={code}>
              <label className={`reason-choice${chosen === code ? ' chosen' : ''}`}>
                <input
                  type="radio"
                  name={name}
                  value={code}
                  checked={chosen === code}
                  onChange={() => setChosen(code)}
                  aria-keyshortcuts={keyOf(i) || undefined}
                />
                {keyOf(i) ? <kbd>{keyOf(i)}</kbd> : null}
                <span>{texts?.get(code) ?? code}</span>
              </label>
            </li>
          ))}
        </ol>
      </fieldset>
      <div className="row">
        <button type="submit" className="danger" disabled={!chosen || busy} data-testid="confirm-reject">
          {s.decide.confirmReject} <kbd>Enter</kbd>
        </button>
        <button type="button" onClick={onCancel}>
          {s.decide.cancel} <kbd>Esc</kbd>
        </button>
      </div>
    </form>
  );
}

/** Asking the citizen for more: a note (required; the citizen reads it), sent with Ctrl+Enter; Esc goes back. */
export function NeedsInfoPanel({
  busy,
  onSend,
  onCancel,
}: {
  busy: boolean;
  onSend: (note: string) => void;
  onCancel: () => void;
}) {
  const { s } = useStaffText();
  const [note, setNote] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  useEffect(() => area.current?.focus(), []);
  const text = note.trim();
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (text && !busy) onSend(text);
  };
  // Escape from anywhere in the panel (the text area itself is typed into, so it handles its own keys).
  useShortcuts({ escape: onCancel });
  return (
    <form className="needs-info" onSubmit={submit} data-testid="needs-info-panel">
      <label htmlFor="needs-info-note">{s.decide.noteLabel}</label>
      <textarea
        id="needs-info-note"
        ref={area}
        rows={4}
        maxLength={1000}
        required
        aria-describedby={hintId}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <p id={hintId} className="hint">
        {s.decide.noteHint}
      </p>
      <div className="row">
        <button type="submit" className="primary" disabled={!text || busy} data-testid="send-needs-info">
          {s.decide.send} <kbd>Ctrl Enter</kbd>
        </button>
        <button type="button" onClick={onCancel}>
          {s.decide.cancel} <kbd>Esc</kbd>
        </button>
      </div>
    </form>
  );
}
