import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

// Compressed copies of the last few large bodies, by their text: the same cached reference body is sent thousands of
// times, so it is compressed once (the district outlines: ~340 kB of JSON, ~85 kB brotli), off the event loop.
const copies = new Map<string, Promise<{ br: Buffer; gzip: Buffer }>>();
const KEPT = 8;

/**
 * Sends a large JSON body that rarely changes, brotli- or gzip-compressed when the client accepts it, compressing
 * each distinct body once (concurrent first requests share the one compression).
 */
export async function sendCompressedJson(
  request: FastifyRequest,
  reply: FastifyReply,
  json: string,
): Promise<FastifyReply> {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  void reply.type('application/json').header('vary', 'accept-encoding');
  const encoding = /\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : null;
  if (!encoding) return reply.send(json);
  let copy = copies.get(json);
  if (!copy) {
    copy = Promise.all([
      brotliAsync(json, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
      gzipAsync(json, { level: 9 }),
    ]).then(([br, gz]) => ({ br, gzip: gz }));
    if (copies.size >= KEPT) copies.delete(copies.keys().next().value!);
    copies.set(json, copy);
  }
  return reply.header('content-encoding', encoding).send((await copy)[encoding]);
}
