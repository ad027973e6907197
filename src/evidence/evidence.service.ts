import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { analysisProblem, analyzeAndStore, analyzePicture } from './analysis.js';
import type { BlobStore } from './blob-store.js';
import { type EvidenceRow, findEvidenceBySha, recordUpload } from './evidence.repository.js';
import type { EvidenceBody } from './evidence.schema.js';
import { probeMedia, probePhoto } from './probe.js';
import { pictureWarnings } from './quality.js';
import { SNIFF_BYTES, type Sniffed, sniff } from './sniff.js';

export interface IngestDeps {
  db: Queryable;
  blobs: BlobStore;
  config: Pick<Config, 'EVIDENCE_MAX_BYTES'>;
}

/**
 * Stores one uploaded file as evidence — from a multipart upload or a finished resumable one: in one pass hash,
 * count and sniff the head while writing a temporary blob (a file whose content is not media stops at its first
 * chunk), then read its media facts once per distinct content, record who uploaded it, and measure the picture.
 */
export async function ingestEvidence(
  deps: IngestDeps,
  input: {
    stream: Readable;
    /** Whether the stream was cut at the size limit. */
    truncated: () => boolean;
    citizenId: string;
    filename: string | null | undefined;
    log: { warn(obj: object, msg: string): void };
  },
): Promise<{ created: boolean; body: EvidenceBody }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let sniffed: Sniffed | null = null;
  const inspect = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (!sniffed && head.length < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk]).subarray(0, SNIFF_BYTES);
        if (head.length >= SNIFF_BYTES) {
          sniffed = sniff(head);
          // Stop a non-media upload at its first chunk instead of writing it all to disk.
          if (!sniffed) return done(new AppError('EVIDENCE_TYPE_UNSUPPORTED', { field: 'file' }));
        }
      }
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const upload = await deps.blobs.createUpload();
  try {
    await pipeline(input.stream, inspect, upload.stream);
    if (input.truncated())
      throw new AppError('EVIDENCE_TOO_LARGE', {
        field: 'file',
        details: { maxBytes: deps.config.EVIDENCE_MAX_BYTES },
      });
    if (bytes === 0) throw new AppError('EVIDENCE_EMPTY', { field: 'file' });
    sniffed ??= sniff(head);
    if (!sniffed) throw new AppError('EVIDENCE_TYPE_UNSUPPORTED', { field: 'file' });
  } catch (err) {
    await upload.discard();
    throw clientStreamError(err);
  }
  const kind: Sniffed = sniffed;
  const digest = hash.digest();
  const hex = digest.toString('hex');
  const record = {
    sha256: digest,
    kind: kind.kind,
    mime: kind.mime,
    bytes,
    citizenId: input.citizenId,
    originalName: input.filename ? stripControlChars(input.filename).slice(0, 255) || null : null,
  };
  let row: EvidenceRow & { created: boolean };
  const content = kind.kind === 'photo' ? upload.content() : null;
  if (content) {
    // A photo still in memory: its facts and picture are read from those bytes while they are written to disk, and
    // all of it is recorded in one statement (whether or not the bytes were seen before: a repeat costs one
    // analysis, a first upload saves a lookup and three commits). Measured in `npm run bench -- pipeline`.
    const picture = (async () => {
      const facts = await probePhoto(content);
      const analysis = facts.readable ? await analyzePicture(content).catch(analysisProblem) : null;
      return { facts, analysis };
    })();
    const [{ facts, analysis }] = await Promise.all([picture, upload.commit(hex)]);
    row = await recordUpload(deps.db, { ...record, facts, analysis });
  } else {
    await upload.commit(hex);
    // Read what the file really is once per distinct content; the same bytes uploaded again reuse the facts.
    const known = await findEvidenceBySha(deps.db, digest);
    const facts = known ? null : await deps.blobs.withLocalFile(hex, (file) => probeMedia(file, kind));
    row = await recordUpload(deps.db, { ...record, facts });
  }
  let measured = { sharpness: row.sharpness, brightness: row.brightness };
  // The picture is measured (thumbnail, poster frame, blur, darkness, perceptual hash) while the citizen still
  // fills in the report, so the pipeline's analyze stage only compares; it analyses whatever is left undone
  // (a crash in between, an outage) — here, bytes recorded earlier but never analysed. Measured: 5.3–6.2 ms of CPU per
  // 640×480 photo (bench/README.md, "analyze").
  if (row.readable && !row.analyzed_at) {
    const analysis = await analyzeAndStore(deps.db, deps.blobs, {
      id: row.id,
      sha256: hex,
      kind: row.kind,
      duration_ms: row.duration_ms,
    }).catch((err: unknown) => {
      input.log.warn({ err, evidenceId: row.id }, 'evidence analysis left to the pipeline');
      return null;
    });
    if (analysis) measured = analysis;
  }
  return {
    created: row.created,
    body: {
      id: row.id,
      kind: row.kind,
      mime: row.mime,
      bytes: row.bytes,
      sha256: hex,
      media: {
        readable: row.readable,
        width: row.width,
        height: row.height,
        durationMs: row.duration_ms,
        warnings: row.readable
          ? pictureWarnings({ width: row.width, height: row.height, ...measured }).map((w) => w.type)
          : [],
      },
    },
  };
}

// Filenames are kept only as a hint for people; control characters (NUL cannot even be stored) are dropped.
function stripControlChars(name: string): string {
  return [...name].filter((ch) => ch.charCodeAt(0) >= 0x20).join('');
}

/**
 * A file-system error (it has a syscall: disk full, permissions) or one Fastify already classified (it has a
 * code) stays as it is; anything else that broke the upload is the client's body: cut off, or not valid multipart.
 */
export function clientStreamError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.syscall || typeof e?.code === 'string') return err;
  return new AppError('MALFORMED_BODY', {
    field: 'file',
    message: 'The upload ended early or is not valid multipart/form-data.',
    cause: err,
  });
}
