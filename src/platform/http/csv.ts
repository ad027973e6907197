import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** A CSV field: quoted when it must be, and with spreadsheet formulas (=, +, -, @ …) neutralised. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** How a CSV download is read: keyset pagination by `fetchPage`, one line of fields per row. */
export interface CsvPages<R, K> {
  header: string[];
  pageSize: number;
  fetchPage: (after: K | null, limit: number) => Promise<R[]>;
  keyOf: (row: R) => K;
  toFields: (row: R) => (string | number | null | undefined)[];
}

/**
 * A CSV download streamed page by page (keyset pagination by `fetchPage`): memory stays flat however many rows,
 * and no cursor holds a database connection between pages.
 */
function csvStream<R, K>(opts: CsvPages<R, K>): Readable {
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

/**
 * Answers a request with a streamed CSV attachment named `filename`. Returns the reply, which the route must
 * return: the stream is still being written when the handler's promise settles.
 */
export function sendCsv<R, K>(
  reply: FastifyReply,
  opts: CsvPages<R, K> & {
    filename: string;
    /** A Cache-Control value for public downloads; none is sent without it. */
    cacheControl?: string;
  },
): FastifyReply {
  reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${opts.filename}"`);
  if (opts.cacheControl) reply.header('cache-control', opts.cacheControl);
  return reply.send(csvStream(opts));
}
