import type { Readable } from 'node:stream';

/** One file of a tar archive: its bytes, or a stream of exactly `size` bytes. */
export type TarEntry = { name: string; mtime: Date } & (
  | { content: Buffer }
  | { size: number; stream: () => Readable }
);

const BLOCK = 512;

/**
 * A POSIX ustar archive as a stream of chunks, one entry at a time: only the entry being written is in memory, and
 * of a streamed entry only its current chunk. Enough for the flat, ASCII names of a data export; an npm tar package
 * would bring a parser and extractor we do not need. A streamed entry that yields other than its declared size
 * throws, so a short blob never shifts the entries after it.
 */
export async function* tarStream(
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const size = 'content' in entry ? entry.content.length : entry.size;
    yield header(entry.name, size, entry.mtime);
    if ('content' in entry) yield entry.content;
    else {
      let written = 0;
      for await (const chunk of entry.stream()) {
        const buf = chunk as Buffer;
        written += buf.length;
        if (written > size) throw new Error(`${entry.name}: more than the ${size} bytes declared`);
        yield buf;
      }
      if (written !== size) throw new Error(`${entry.name}: ${written} bytes, ${size} declared`);
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) yield Buffer.alloc(pad);
  }
  // The end of the archive: two zero blocks.
  yield Buffer.alloc(BLOCK * 2);
}

function header(name: string, size: number, mtime: Date): Buffer {
  if (!/^[\x21-\x7e]{1,100}$/.test(name)) throw new Error(`tar name not supported: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'ascii');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.floor(mtime.getTime() / 1000));
  h.fill(0x20, 148, 156); // the checksum is computed over its own field as spaces
  h.write('0', 156, 1, 'ascii'); // a regular file
  h.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** A zero-padded octal number filling `width - 1` characters and a NUL (sizes up to 8 GiB in the 12-byte field). */
function octal(h: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar field overflow: ${value}`);
  h.write(`${digits.padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
