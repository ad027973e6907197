import { useEffect, useState } from 'react';
import { staffBlob } from './session';

/**
 * Evidence the API sends only with the staff token, turned into object URLs an <img> or <video> can show.
 *
 * Thumbnails are kept for the page's life (a bounded cache): the queue refreshes every few seconds and every
 * fetch of a file is written to the evidence audit log, so a thumbnail once seen is not fetched again. Originals
 * (a video can be 100+ MB) belong to the screen that shows them and are released when it closes.
 */
const THUMBS_KEPT = 300;
const thumbs = new Map<string, Promise<string>>();

export function thumbnailUrl(path: string): Promise<string> {
  const hit = thumbs.get(path);
  if (hit) {
    // Most recently used last, so the oldest is evicted first.
    thumbs.delete(path);
    thumbs.set(path, hit);
    return hit;
  }
  const p = staffBlob(path).then((b) => URL.createObjectURL(b));
  p.catch(() => thumbs.delete(path));
  thumbs.set(path, p);
  if (thumbs.size > THUMBS_KEPT) {
    const [oldest, url] = thumbs.entries().next().value!;
    thumbs.delete(oldest);
    url.then(URL.revokeObjectURL, () => {});
  }
  return p;
}

/** Forgets every cached file (on sign-out: the next person at this desk starts clean). */
export function forgetEvidence(): void {
  for (const url of thumbs.values()) url.then(URL.revokeObjectURL, () => {});
  thumbs.clear();
}

export function useThumbnail(path: string | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    setUrl(null);
    if (!path) return;
    let live = true;
    thumbnailUrl(path).then(
      (u) => live && setUrl(u),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [path]);
  return url;
}

export type FileState =
  | { state: 'loading'; fraction: number | null }
  | { state: 'ready'; url: string }
  | { state: 'failed'; error: unknown };

/** An original evidence file as an object URL, with download progress; released when `path` changes or on unmount. */
export function useEvidenceFile(path: string | null): FileState {
  const [file, setFile] = useState<FileState>({ state: 'loading', fraction: null });
  useEffect(() => {
    setFile({ state: 'loading', fraction: null });
    if (!path) return;
    const abort = new AbortController();
    let url: string | null = null;
    staffBlob(path, {
      signal: abort.signal,
      onProgress: (fraction) => setFile({ state: 'loading', fraction }),
    }).then(
      (blob) => {
        if (abort.signal.aborted) return;
        url = URL.createObjectURL(blob);
        setFile({ state: 'ready', url });
      },
      (error) => {
        if (!abort.signal.aborted) setFile({ state: 'failed', error });
      },
    );
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [path]);
  return file;
}
