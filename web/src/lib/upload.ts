import { type DetailedError, Upload } from 'tus-js-client';
import { ApiError, authHeader, citizenRefresher, sessionRefused } from '../api/client';
import type { Evidence } from '../api/types';

/**
 * Bytes per request: on a mobile connection a drop loses at most this much. 5 MiB, S3's smallest multipart part,
 * so with the object store every chunk but the last is one part (smaller ones are buffered as extra objects).
 */
const CHUNK = 5 * 1024 * 1024;
/** Waits between attempts after a dropped connection, then it gives up (the citizen can press upload again). */
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

/**
 * Uploads one evidence file over the tus protocol (POST /v1/tus, then PATCH chunks; tus-js-client), with progress.
 * A dropped connection is retried from the offset the server confirms (HEAD); the upload's address is kept in
 * localStorage under the file's fingerprint (name, type, size, modification time), so after a page reload the same
 * file chosen again continues where it stopped. The PATCH that completes the file answers with the evidence — the
 * same bytes always get the same evidence id, so even starting over is safe.
 */
export function uploadEvidence(
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<Evidence> {
  return new Promise((resolve, reject) => {
    let used = '';
    const upload = new Upload(file, {
      endpoint: '/v1/tus',
      chunkSize: CHUNK,
      retryDelays: RETRY_MS,
      metadata: { filename: file.name.slice(0, 255), filetype: file.type },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // A long upload outlives an access token: each request leaves with a fresh one.
      async onBeforeRequest(req) {
        await citizenRefresher.ensureFresh();
        used = authHeader().authorization ?? '';
        req.setHeader('authorization', used);
        req.setHeader('accept', 'application/json');
      },
      onShouldRetry(err, _attempt) {
        const e = toApiError(err);
        if (e.code === 'TOKEN_EXPIRED') {
          void citizenRefresher.refreshAfterExpiry(used.replace(/^Bearer /, ''));
          return true;
        }
        // Only a dropped connection, a server restarting or a busy lock is worth another try; a refusal is final.
        return e.status === 0 || e.status >= 500 || e.status === 409 || e.status === 423;
      },
      onProgress: (sent, total) => onProgress(total ? sent / total : 0),
      onSuccess({ lastResponse }) {
        onProgress(1);
        try {
          resolve(JSON.parse(lastResponse.getBody()) as Evidence);
        } catch {
          reject(new ApiError(lastResponse.getStatus(), 'unknown', 'The upload ended without its evidence.'));
        }
      },
      onError(err) {
        const e = toApiError(err as DetailedError);
        sessionRefused(e);
        reject(e);
      },
    });
    signal.addEventListener(
      'abort',
      () => {
        void upload.abort();
        reject(new ApiError(0, 'ABORTED', 'aborted'));
      },
      { once: true },
    );
    upload
      .findPreviousUploads()
      .then((previous) => {
        // The newest earlier attempt at this very file, if any: continue it instead of sending everything again.
        const last = previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime))[0];
        if (last) upload.resumeFromPreviousUpload(last);
      })
      .catch(() => {})
      .finally(() => {
        if (!signal.aborted) upload.start();
      });
  });
}

/** A tus-js-client error as the API's: our JSON error body when the server sent one, else a dropped connection. */
function toApiError(err: DetailedError): ApiError {
  const res = err.originalResponse;
  if (!res) return new ApiError(0, 'NETWORK', 'upload interrupted');
  let body: { code?: string; message?: string; field?: string; details?: Record<string, unknown> } = {};
  try {
    body = JSON.parse(res.getBody());
  } catch {}
  const e = new ApiError(
    res.getStatus(),
    body.code ?? `HTTP_${res.getStatus()}`,
    body.message ?? err.message,
    body.field,
  );
  e.details = body.details;
  return e;
}
