import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { analysisProblem, analyzeAndStore, analyzePicture } from './analysis.js';
import type { BlobStore } from './blob-store.js';
import {
  caseDailyQuota,
  dailyQuota,
  type EvidenceRow,
  findEvidenceBySha,
  type Quota,
  recordUpload,
} from './evidence.repository.js';
import type { EvidenceBody } from './evidence.schema.js';
import { GateTimeout } from './gate.js';
import type { Media } from './media.js';
import { type MediaFacts, probeMedia, probePhoto } from './probe.js';
import { pictureWarnings } from './quality.js';
import { SNIFF_BYTES, type Sniffed, sniff } from './sniff.js';

export interface IngestDeps {
  db: Queryable;
  blobs: BlobStore;
  media: Media;
  config: Pick<Config, 'EVIDENCE_MAX_BYTES' | 'EVIDENCE_DAILY_BYTES_PER_CITIZEN'>;
}

/**
 * Who uploads: a signed-in citizen (the evidence of their reports), or — with no account — the driver of one fined
 * case, attaching files to an appeal. Each has a daily quota of its own; the checks on the bytes are the same.
 */
export type Uploader = { citizenId: string } | { caseReportId: string; dailyBytes: number };

/**
 * Stores one uploaded file as evidence — from a multipart upload or a finished resumable one: in one pass hash,
 * count and sniff the head while writing a temporary blob (a file whose content is not media stops at its first
 * chunk, one past the citizen's daily quota as soon as it passes it), then read its media facts from its headers
 * once per distinct content and refuse what is unreadable or over the limits (nothing is kept), record who
 * uploaded it, and measure a photo's picture. A video's poster frame and picture measures are the pipeline's
 * (analyze stage): the request only stores, sniffs and probes.
 */
export async function ingestEvidence(
  deps: IngestDeps,
  input: {
    stream: Readable;
    /** Whether the stream was cut at the size limit. */
    truncated: () => boolean;
    filename: string | null | undefined;
    /** The bytes were counted against the quota already (a resumable upload, at its opening). */
    quotaReserved?: boolean;
    log: { warn(obj: object, msg: string): void };
  } & Uploader,
): Promise<{ created: boolean; body: EvidenceBody }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let sniffed: Sniffed | null = null;
  // Read beside the upload, not before it: the bytes still allowed today, enforced from the first chunk after the
  // answer is in.
  let quotaRead: Quota | null = null;
  const quota = input.quotaReserved
    ? null
    : ('citizenId' in input
        ? dailyQuota(deps.db, input.citizenId, deps.config.EVIDENCE_DAILY_BYTES_PER_CITIZEN)
        : caseDailyQuota(deps.db, input.caseReportId, input.dailyBytes)
      ).then((q) => {
        quotaRead = q;
        return q;
      });
  quota?.catch(() => {});
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
      const q: Quota | null = quotaRead;
      if (q && bytes > q.left) return done(quotaError(q.retryAfterSeconds));
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
    const q = await quota;
    if (q && bytes > q.left) throw quotaError(q.retryAfterSeconds);
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
    citizenId: 'citizenId' in input ? input.citizenId : null,
    caseReportId: 'caseReportId' in input ? input.caseReportId : null,
    originalName: input.filename ? stripControlChars(input.filename).slice(0, 255) || null : null,
  };
  const { media } = deps;
  let row: EvidenceRow & { created: boolean };
  /** No decoding slot came in time: the picture is the pipeline's. */
  let deferred = false;
  const content = kind.kind === 'photo' ? upload.content() : null;
  if (content) {
    // A photo still in memory: its header is read from those bytes (nothing kept if it is refused), then it is
    // written while the database says whether these bytes were seen before; only new bytes are decoded and
    // measured, and all of it is recorded in one statement. Measured in `npm run bench -- pipeline`.
    const facts = await probePhoto(media, content).catch(async (err: unknown) => {
      await upload.discard();
      throw err;
    });
    if (!facts.readable) {
      await upload.discard();
      throw unreadable(facts.problem);
    }
    const committed = upload.commit(hex);
    committed.catch(() => {});
    const known = await findEvidenceBySha(deps.db, digest);
    if (known && !known.readable) {
      await committed;
      throw unreadable(null);
    }
    // A large photo is the pipeline's to measure: decoding it here would hold this request and others' behind it.
    if (!known && media.isLarge(facts.width, facts.height)) deferred = true;
    const analysis =
      known || deferred
        ? null
        : await analyzePicture(media, content, { deadlineMs: media.limits.decodeQueueMs, size: facts }).catch(
            (err: unknown) => {
              if (!(err instanceof GateTimeout)) return analysisProblem(err);
              deferred = true;
              return null;
            },
          );
    await committed;
    row = await recordUpload(deps.db, { ...record, facts, analysis });
  } else {
    await upload.commit(hex);
    // Read what the file really is once per distinct content; the same bytes uploaded again reuse the facts.
    const known = await findEvidenceBySha(deps.db, digest);
    let facts: MediaFacts | null = null;
    if (!known) {
      try {
        facts = await deps.blobs.withLocalFile(hex, (file) => probeMedia(media, file, kind));
        if (!facts.readable) throw unreadable(facts.problem);
      } catch (err) {
        // Refused: the bytes are not kept (no evidence row names them; the same bytes would be refused again).
        await deps.blobs
          .delete(hex)
          .catch((e: unknown) =>
            input.log.warn({ err: e, sha256: hex }, 'could not delete refused evidence bytes'),
          );
        throw err;
      }
    } else if (!known.readable) throw unreadable(null);
    row = await recordUpload(deps.db, { ...record, facts });
  }
  let measured = { sharpness: row.sharpness, brightness: row.brightness };
  // A photo is measured (thumbnail, blur, darkness, perceptual hash) while the citizen still fills in the report,
  // so the pipeline's analyze stage only compares; it analyses whatever is left undone (videos, a photo that waited
  // too long for a decoding slot) — here, a large photo that went to a file, or bytes recorded earlier but never
  // analysed (a crash in between). Measured: 5.3–6.2 ms of CPU per 640×480 photo (bench/README.md, "analyze").
  if (
    row.readable &&
    !row.analyzed_at &&
    row.kind === 'photo' &&
    !deferred &&
    !media.isLarge(row.width, row.height)
  ) {
    const analysis = await analyzeAndStore(
      deps.db,
      media,
      deps.blobs,
      { id: row.id, sha256: hex, kind: row.kind, duration_ms: row.duration_ms },
      { deadlineMs: media.limits.decodeQueueMs },
    ).catch((err: unknown) => {
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

function unreadable(problem: string | null): AppError {
  return new AppError('EVIDENCE_UNREADABLE', { field: 'file', details: problem ? { reason: problem } : {} });
}

export function quotaError(retryAfterSeconds: number): AppError {
  return new AppError('EVIDENCE_QUOTA_EXCEEDED', {
    field: 'file',
    details: { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) },
  });
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
