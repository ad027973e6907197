import type { Static } from '@sinclair/typebox';
import type { UploadState as UploadStateSchema } from '../../../src/evidence/evidence.schema.js';
import { ApiError, api, authHeader, citizenRefresher, sessionRefused } from '../api/client';
import type { Evidence } from '../api/types';

/** Bytes per request: on a mobile connection a drop loses at most this much. */
const CHUNK = 1024 * 1024;
/** Waits between attempts after a dropped connection, then it gives up (the citizen can press upload again). */
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

type UploadState = Static<typeof UploadStateSchema>;

/**
 * Uploads one evidence file resumably (POST /v1/uploads, then PATCH chunks at the offset the server confirms) with
 * progress — XMLHttpRequest, since fetch() cannot report upload progress. When the connection drops, it asks the
 * server where the upload stands (GET /v1/uploads/{id}) and continues from there instead of sending the file again.
 * The same bytes always get the same evidence id, so even starting over is safe.
 */
export async function uploadEvidence(
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<Evidence> {
  const state = await api<UploadState>('/v1/uploads', {
    body: { size: file.size, filename: file.name.slice(0, 255) },
    signal,
  });
  let offset = 0;
  let failures = 0;
  for (;;) {
    const end = Math.min(file.size, offset + CHUNK);
    // A long upload outlives an access token: each chunk leaves with a fresh one.
    await citizenRefresher.ensureFresh();
    const used = authHeader().authorization?.replace(/^Bearer /, '') ?? '';
    try {
      const answer = await sendChunk(state.id, offset, file.slice(offset, end), signal, (loaded) =>
        onProgress((offset + loaded) / file.size),
      );
      failures = 0;
      if (answer.evidence) {
        onProgress(1);
        return answer.evidence;
      }
      offset = answer.offset;
    } catch (err) {
      const e = err as ApiError;
      if (e.code === 'ABORTED') throw e;
      if (e.code === 'TOKEN_EXPIRED' && (await citizenRefresher.refreshAfterExpiry(used))) continue;
      if (e.code === 'UPLOAD_OFFSET_MISMATCH' && typeof e.details?.offset === 'number') {
        offset = e.details.offset;
        continue;
      }
      // Only a dropped connection (or a server restarting) is worth resuming; a refusal is final.
      if (e.status !== 0 && e.status < 500) throw e;
      const wait = RETRY_MS[failures++];
      if (wait === undefined) throw e;
      await sleep(wait, signal);
      offset = (await api<UploadState>(`/v1/uploads/${state.id}`, { signal })).offset;
    }
  }
}

function sendChunk(
  id: string,
  offset: number,
  chunk: Blob,
  signal: AbortSignal,
  onLoaded: (bytes: number) => void,
): Promise<{ offset: number; evidence?: Evidence }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', `/v1/uploads/${id}`);
    for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', 'application/offset+octet-stream');
    xhr.setRequestHeader('upload-offset', String(offset));
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => onLoaded(e.loaded);
    xhr.onload = () => {
      const body = xhr.response as
        | (Evidence & { code?: string; message?: string; field?: string; details?: { offset?: number } })
        | null;
      if (xhr.status === 204) {
        resolve({ offset: Number(xhr.getResponseHeader('upload-offset') ?? offset + chunk.size) });
        return;
      }
      if (xhr.status === 200 || xhr.status === 201) {
        resolve({ offset: offset + chunk.size, evidence: body as Evidence });
        return;
      }
      const err = new ApiError(
        xhr.status,
        body?.code ?? `HTTP_${xhr.status}`,
        body?.message ?? xhr.statusText,
        body?.field,
      );
      err.details = body?.details;
      sessionRefused(err);
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'upload interrupted'));
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'aborted'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(chunk);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new ApiError(0, 'ABORTED', 'aborted'));
      },
      { once: true },
    );
  });
}
