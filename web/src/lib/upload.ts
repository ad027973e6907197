import { ApiError, authHeader, sessionRefused } from '../api/client';
import type { Evidence } from '../api/types';

/**
 * Uploads one evidence file (POST /v1/evidence, multipart field `file`) with progress: fetch() cannot report
 * upload progress, XMLHttpRequest can. The same bytes always get the same evidence id, so uploading again after a
 * failure is safe (not yet resumable: see web/README.md).
 */
export function uploadEvidence(
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<Evidence> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/evidence');
    for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const body = xhr.response as (Evidence & { code?: string; message?: string; field?: string }) | null;
      if (xhr.status === 200 || xhr.status === 201) {
        onProgress(1);
        resolve(body as Evidence);
        return;
      }
      const err = new ApiError(
        xhr.status,
        body?.code ?? `HTTP_${xhr.status}`,
        body?.message ?? xhr.statusText,
        body?.field,
      );
      sessionRefused(err);
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'upload failed'));
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'aborted'));
    signal.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
