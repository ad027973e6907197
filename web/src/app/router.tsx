import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/**
 * A router of a few lines over the History API: the app has a dozen routes and no nested layouts, which is not
 * worth a routing library's weight in the first download.
 */
const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
window.addEventListener('popstate', notify);

function subscribe(fn: () => void) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Starts a page's code (`reads` false: a link is pointed at) or its code and first reads (it is being opened). */
type Warmer = (path: string, search: URLSearchParams, reads: boolean) => void;
let warmer: Warmer = () => {};
/** Set once by main.tsx (app/prefetch.ts does the work; this module stays free of the pages). */
export function setWarmer(w: Warmer): void {
  warmer = w;
}
const warm = (to: string, reads: boolean) => {
  const url = new URL(to, location.href);
  warmer(url.pathname, url.searchParams, reads);
};

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  // A new page's first reads start now; a replaced entry is the same page's state (the queue's filters), whose
  // own reads follow at once and may differ from a new page's (a longer list), so only its code is warmed.
  warm(to, !opts.replace);
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  notify();
}

/** The current path and query string; re-renders on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const q = href.indexOf('?');
  return { path: q < 0 ? href : href.slice(0, q), search: new URLSearchParams(q < 0 ? '' : href.slice(q)) };
}

/** Matches '/reports/:id' or '/ops/*' against a path; returns the parameters or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part === '*') return params;
    const seg = s[i];
    if (seg === undefined) return null;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(seg);
    else if (part !== seg) return null;
  }
  return s.length === p.length ? params : null;
}

/** An <a> that navigates in the app; modified clicks (new tab, download) are left to the browser. */
export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const current = useLocation().path === to;
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  // The page's code starts loading when the link is pointed at or focused, usually well before the click.
  return (
    <a
      href={to}
      onClick={click}
      onPointerEnter={() => warm(to, false)}
      onFocus={() => warm(to, false)}
      aria-current={current ? 'page' : undefined}
      {...rest}
    />
  );
}
