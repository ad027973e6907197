import type { ReactNode } from 'react';

/**
 * A wide table in a region of its own that scrolls sideways on a narrow screen, so the page itself never does. It
 * takes focus so a keyboard user can scroll it, and is named so a screen reader says what it holds.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-scroll" tabIndex={0} aria-label={label}>
      {children}
    </section>
  );
}
