import { type ComponentType, createElement, lazy, useState } from 'react';

export interface Preloadable<P> {
  /** Starts loading the module (once; again after a failure) and resolves when it is there. */
  load(): Promise<unknown>;
  /** The module's default export: rendered directly once loaded, through `React.lazy` (and Suspense) before. */
  Component: ComponentType<P>;
}

/**
 * A code-split component whose module can be loaded ahead of its first render. `React.lazy` alone suspends on its
 * first render even when the module is already there, and React holds back a Suspense boundary's content for up to
 * 300 ms after its fallback was shown (its reveal throttle): measured with `npm run bench -- web`, the statistics
 * page's data was in at ~200 ms and the page appeared at ~560 ms, after a 199 ms timer of React's. A module loaded
 * before the first render (main.tsx waits for the page's chunk) renders at once, without a fallback. Written without
 * JSX so that the Node tests can import it.
 */
export function preloadable<P extends object>(
  loader: () => Promise<{ default: ComponentType<P> }>,
): Preloadable<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<{ default: ComponentType<P> }> | undefined;
  const load = () => {
    pending ??= loader().then(
      (m) => {
        loaded = m.default;
        return m;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
  const Lazy = lazy(load);
  // biome-ignore lint/correctness/noComponentHookFactories: called once per page at module level, as React.lazy is
  function Component(props: P) {
    // Chosen once per mounted instance: swapping the lazy wrapper for the loaded component would remount the page.
    const [Shown] = useState<ComponentType<P>>(() => loaded ?? Lazy);
    return createElement(Shown, props);
  }
  return { load, Component };
}
