import { Readable } from 'node:stream';

/** A CSV field: quoted when it must be, and with spreadsheet formulas (=, +, -, @ …) neutralised. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A CSV download streamed page by page (keyset pagination by `fetchPage`): memory stays flat however many rows,
 * and no cursor holds a database connection between pages.
 */
export function csvStream<R, K>(opts: {
  header: string[];
  pageSize: number;
  fetchPage: (after: K | null, limit: number) => Promise<R[]>;
  keyOf: (row: R) => K;
  toFields: (row: R) => (string | number | null | undefined)[];
}): Readable {
  async function* lines() {
    yield `${opts.header.join(',')}\r\n`;
    let after: K | null = null;
    for (;;) {
      const page = await opts.fetchPage(after, opts.pageSize);
      if (page.length) yield page.map((r) => `${opts.toFields(r).map(csvField).join(',')}\r\n`).join('');
      if (page.length < opts.pageSize) return;
      after = opts.keyOf(page.at(-1)!);
    }
  }
  return Readable.from(lines());
}
