import { useEffect, useRef } from 'react';

/**
 * Keyboard shortcuts of the staff consoles. Letters and digits are read from the physical key (`KeyboardEvent.code`),
 * not the character, so "A" approves whether the keyboard is on the Latin, Uzbek or Russian layout ("Ф" on the
 * same key). Names, all lower case: 'a'…'z', '0'…'9', 'space', 'enter', 'escape', 'arrowleft', 'arrowright', 'arrowup',
 * 'arrowdown', '/', and a 'shift+' prefix for a shifted key.
 */
export type Shortcuts = Record<string, (e: KeyboardEvent) => void>;

function keyName(e: KeyboardEvent): string {
  const c = e.code;
  let k: string;
  if (c.startsWith('Key')) k = c.slice(3).toLowerCase();
  else if (c.startsWith('Digit')) k = c.slice(5);
  else if (c.startsWith('Numpad') && /^\d$/.test(c.slice(6))) k = c.slice(6);
  else if (c === 'Slash') k = '/';
  else if (e.key === ' ') k = 'space';
  else k = e.key.toLowerCase();
  return e.shiftKey && k !== '/' ? `shift+${k}` : k;
}

/** Typing into these must never trigger a shortcut; radio buttons and checkboxes are not typed into. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && target.type !== 'radio' && target.type !== 'checkbox';
}

/** Space and Enter already mean "press this" on a focused button or link: leave them to it. */
function isPressable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && target.closest('button, a[href], summary') !== null;
}

/**
 * Calls the handler bound to a key pressed anywhere on the page while the component is mounted, unless the key is
 * typed into a field or comes with Ctrl, Alt or ⌘ (the browser's own shortcuts stay the browser's). Held keys do
 * not repeat a decision: only arrows repeat.
 */
export function useShortcuts(shortcuts: Shortcuts, enabled = true): void {
  const latest = useRef(shortcuts);
  latest.current = shortcuts;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || isTyping(e.target)) return;
      const name = keyName(e);
      if ((name === 'space' || name === 'enter') && isPressable(e.target)) return;
      const fn = latest.current[name];
      if (!fn) return;
      if (e.repeat && !name.includes('arrow')) {
        e.preventDefault();
        return;
      }
      e.preventDefault();
      fn(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}

/** A row of visible key hints: what each key does on this screen. */
export function KeyHints({ label, hints }: { label: string; hints: [keys: string, what: string][] }) {
  return (
    <section className="key-hints" aria-label={label}>
      <ul>
        {hints.map(([keys, what]) => (
          <li key={keys + what}>
            {keys.split(' ').map((k) => (
              <kbd key={k}>{k}</kbd>
            ))}{' '}
            {what}
          </li>
        ))}
      </ul>
    </section>
  );
}
