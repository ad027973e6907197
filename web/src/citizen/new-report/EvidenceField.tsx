import { type Dispatch, useEffect, useRef } from 'react';
import { asApiError } from '../../api/client';
import { useErrorText } from '../../app/common';
import { useI18n } from '../../i18n';
import { EXIF_HEAD_BYTES, readCameraFacts } from '../../lib/exif';
import { readVideoFacts } from '../../lib/mp4';
import { exifToTashkentLocal, toTashkentLocal } from '../../lib/time';
import { uploadEvidence } from '../../lib/upload';
import type { FileFacts, FormAction, Upload } from './reducer';

const ACCEPT = 'image/jpeg,image/png,video/mp4,video/quicktime,video/webm';

/** The camera's own time and place, when the file carries them (a photo's EXIF, an MP4's movie header). */
async function readFacts(file: File): Promise<FileFacts | null> {
  if (file.type === 'image/jpeg') {
    const exif = readCameraFacts(await file.slice(0, EXIF_HEAD_BYTES).arrayBuffer());
    if (!exif) return null;
    const local = exif.dateTimeOriginal ? exifToTashkentLocal(exif.dateTimeOriginal, exif.offset) : null;
    return { local, gps: exif.gps, from: 'photo' };
  }
  if (file.type === 'video/mp4' || file.type === 'video/quicktime') {
    const video = await readVideoFacts(file);
    if (!video) return null;
    return {
      local: video.createdAt ? toTashkentLocal(video.createdAt) : null,
      gps: video.gps,
      from: 'video',
    };
  }
  return null;
}

/** The files of the report: each starts uploading when chosen, and its own time and place are read meanwhile. */
export function EvidenceField({ uploads, dispatch }: { uploads: Upload[]; dispatch: Dispatch<FormAction> }) {
  const { t } = useI18n();
  const fileInput = useRef<HTMLInputElement>(null);

  // Object URLs and uploads in flight end with the form.
  const uploadsRef = useRef(uploads);
  uploadsRef.current = uploads;
  useEffect(
    () => () => {
      for (const u of uploadsRef.current) {
        u.abort.abort();
        URL.revokeObjectURL(u.preview);
      }
    },
    [],
  );

  const start = (u: Upload) => {
    const patch = (change: Partial<Upload>) => dispatch({ type: 'uploadChanged', key: u.key, change });
    patch({ state: 'uploading', progress: 0, error: undefined, abort: u.abort });
    uploadEvidence(u.file, (f) => patch({ progress: f }), u.abort.signal).then(
      (evidence) => patch({ state: 'done', evidence, progress: 1 }),
      (error: unknown) => {
        if (asApiError(error).code !== 'ABORTED') patch({ state: 'failed', error });
      },
    );
  };

  const addFiles = (files: FileList | null) => {
    if (!files) return;
    const added: Upload[] = [...files].map((file) => ({
      key: `${file.name}:${file.size}:${file.lastModified}:${Math.random()}`,
      file,
      preview: URL.createObjectURL(file),
      progress: 0,
      state: 'uploading',
      abort: new AbortController(),
    }));
    dispatch({ type: 'filesAdded', uploads: added });
    for (const u of added) {
      start(u);
      void readFacts(u.file).then((facts) => {
        if (facts) dispatch({ type: 'factsRead', facts });
      });
    }
    if (fileInput.current) fileInput.current.value = '';
  };

  const remove = (u: Upload) => {
    u.abort.abort();
    URL.revokeObjectURL(u.preview);
    dispatch({ type: 'uploadRemoved', key: u.key });
  };

  return (
    <fieldset>
      <legend>{t.form.evidence}</legend>
      <p className="hint">{t.form.evidenceHint}</p>
      <ul className="uploads">
        {uploads.map((u) => (
          <UploadRow key={u.key} upload={u} onRemove={() => remove(u)} onRetry={() => start(u)} />
        ))}
      </ul>
      <label className="button file-button">
        {t.form.chooseFile}
        <input
          ref={fileInput}
          type="file"
          accept={ACCEPT}
          multiple
          className="sr-only"
          data-testid="evidence-input"
          onChange={(e) => addFiles(e.target.files)}
        />
      </label>
    </fieldset>
  );
}

function UploadRow({
  upload: u,
  onRemove,
  onRetry,
}: {
  upload: Upload;
  onRemove: () => void;
  onRetry: () => void;
}) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const isVideo = u.file.type.startsWith('video/');
  const media = u.evidence?.media;
  const problems: string[] = [];
  if (media) {
    if (!media.readable) problems.push(t.form.unreadable);
    const [w, h] = [media.width ?? 0, media.height ?? 0];
    // Either orientation, as the validate stage checks it.
    if (u.evidence?.kind === 'photo' && w && h && (Math.max(w, h) < 640 || Math.min(w, h) < 480))
      problems.push(t.form.photoTooSmall);
    if (media.durationMs && media.durationMs > 120_000) problems.push(t.form.videoTooLong);
  }
  const pct = Math.round(u.progress * 100);
  return (
    <li className="upload" data-state={u.state}>
      {isVideo ? (
        <video src={u.preview} muted playsInline preload="metadata" className="thumb" />
      ) : (
        <img src={u.preview} alt="" className="thumb" />
      )}
      <div className="upload-body">
        <span className="upload-name">{u.file.name}</span>
        {u.state === 'uploading' ? (
          <>
            <progress max={100} value={pct} aria-label={t.form.uploading(pct)} />
            <span className="hint">{t.form.uploading(pct)}</span>
          </>
        ) : u.state === 'done' ? (
          <span className="ok" data-testid="upload-done">
            ✓ {t.form.uploaded}
            {media?.width ? ` · ${media.width}×${media.height}` : ''}
          </span>
        ) : (
          <span className="error">
            {t.form.uploadFailed}: {errorText(u.error)}
          </span>
        )}
        {problems.map((p) => (
          <span key={p} className="error">
            {p}
          </span>
        ))}
        {media?.warnings.map((w) => (
          <span key={w} className="warn">
            {t.form.warnings[w]}
          </span>
        ))}
        <span className="row">
          {u.state === 'failed' ? (
            <button type="button" onClick={onRetry}>
              {t.form.retryUpload}
            </button>
          ) : null}
          <button type="button" className="link" onClick={onRemove}>
            {t.form.remove}
          </button>
        </span>
      </div>
    </li>
  );
}
