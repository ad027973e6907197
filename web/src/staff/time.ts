import { useSyncExternalStore } from 'react';
import { dateFormat, type Lang } from '../i18n';

/**
 * One clock for every countdown on the page: a single timer ticking each second while anything listens, so a
 * queue of 100 rows re-renders once a second, not 100 timers.
 */
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(fn);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

/** A span of time as h:mm:ss (hours may pass 24: review deadlines are up to 48 h away), or m:ss under an hour. */
export function clock(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Hours and minutes (with seconds if asked) on Tashkent's clock. */
export function timeOfDay(iso: string, lang: Lang, seconds = false): string {
  const f = dateFormat(lang, {
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  });
  return f.format(new Date(iso));
}
