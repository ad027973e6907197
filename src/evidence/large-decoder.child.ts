// The large-photo decoder's own process (src/evidence/large-decoder.ts starts it): one picture at a time from the
// parent over IPC, its analysis back. Nothing here trusts the bytes more than the server does: sharp decodes under
// the same pixel limit, and the parent kills this process when a picture takes too long.
import { type PictureAnalysis, pictureOf } from './analysis.js';

interface Job {
  id: number;
  source: Uint8Array;
  maxPixels: number;
}

type Answer = { id: number; ok: true; picture: PictureAnalysis } | { id: number; ok: false; message: string };

process.on('message', (job: Job) => {
  pictureOf(Buffer.from(job.source.buffer, job.source.byteOffset, job.source.byteLength), job.maxPixels).then(
    (picture): void => void process.send?.({ id: job.id, ok: true, picture } satisfies Answer),
    (err: unknown): void =>
      void process.send?.({ id: job.id, ok: false, message: (err as Error).message } satisfies Answer),
  );
});
// The server went away: so does its decoder.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
