import { type FormEvent, Suspense, useEffect, useId, useMemo, useRef, useState } from 'react';
import { ApiError, api, asApiError } from '../api/client';
import type { Accepted, Evidence, ViolationType } from '../api/types';
import { ErrorNote, Loading, Page, useErrorText } from '../app/common';
import { ACTIVE_VIOLATION_TYPES, MAP_PICKER } from '../app/prefetch';
import { navigate } from '../app/router';
import { localName, useI18n } from '../i18n';
import { EXIF_HEAD_BYTES, readCameraFacts } from '../lib/exif';
import { newIdempotencyKey } from '../lib/ids';
import { readVideoFacts } from '../lib/mp4';
import { checkPlate } from '../lib/plate';
import { plateRules } from '../lib/plate-rules';
import { exifToTashkentLocal, tashkentLocalToIso, toTashkentLocal } from '../lib/time';
import { uploadEvidence } from '../lib/upload';
import type { Place } from '../map/MapPicker';
import { RULES_READ_KEY, RulesList } from './Rules';

const MapPicker = MAP_PICKER.Component;

const ACCEPT = 'image/jpeg,image/png,video/mp4,video/quicktime,video/webm';
/** Which kind of file's own metadata filled the time or the place. */
type MetadataSource = 'photo' | 'video';

/** As the server's FILING_WINDOW_HOURS and FUTURE_SKEW_SECONDS defaults; the server has the last word. */
const FILING_WINDOW_MS = 72 * 3600_000;
const FUTURE_SKEW_MS = 120_000;
const SUBMIT_ATTEMPTS = 3;

interface Upload {
  key: string;
  file: File;
  preview: string;
  progress: number;
  state: 'uploading' | 'done' | 'failed';
  evidence?: Evidence;
  error?: unknown;
  abort: AbortController;
}

/** The filing rules until the citizen has read them once, then the form. */
export default function NewReport() {
  const { t } = useI18n();
  const [rulesRead, setRulesRead] = useState(() => localStorage.getItem(RULES_READ_KEY) === '1');
  if (!rulesRead) {
    return (
      <Page title={t.rules.title}>
        <RulesList />
        <button
          type="button"
          className="primary"
          onClick={() => {
            localStorage.setItem(RULES_READ_KEY, '1');
            setRulesRead(true);
          }}
        >
          {t.rules.ok}
        </button>
      </Page>
    );
  }
  return <ReportForm />;
}

function ReportForm() {
  const { t, lang, fmt } = useI18n();
  const errorText = useErrorText();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [types, setTypes] = useState<ViolationType[] | null>(null);
  const [typesError, setTypesError] = useState<unknown>(null);
  const [query, setQuery] = useState('');
  const [violation, setViolation] = useState<string | null>(null);
  const [plate, setPlate] = useState('');
  const [plateTouched, setPlateTouched] = useState(false);
  const [place, setPlace] = useState<Place | null>(null);
  /** Which file's own metadata the place and the time were taken from, while the citizen has not changed them. */
  const [placeFrom, setPlaceFrom] = useState<MetadataSource | null>(null);
  const [time, setTime] = useState('');
  const [timeFrom, setTimeFrom] = useState<MetadataSource | null>(null);
  const [description, setDescription] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [showMissing, setShowMissing] = useState(false);
  const sent = useRef<{ key: string; body: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const missingRef = useRef<HTMLDivElement>(null);
  const ids = { plate: useId(), plateStatus: useId(), time: useId(), timeHint: useId(), search: useId() };

  const loadTypes = () => {
    setTypesError(null);
    api<{ items: ViolationType[] }>(ACTIVE_VIOLATION_TYPES).then((r) => setTypes(r.items), setTypesError);
  };
  useEffect(loadTypes, []);

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

  const patch = (key: string, change: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const start = (u: Upload) => {
    patch(u.key, { state: 'uploading', progress: 0, error: undefined, abort: u.abort });
    uploadEvidence(u.file, (f) => patch(u.key, { progress: f }), u.abort.signal).then(
      (evidence) => patch(u.key, { state: 'done', evidence, progress: 1 }),
      (error: unknown) => {
        if (asApiError(error).code !== 'ABORTED') patch(u.key, { state: 'failed', error });
      },
    );
  };

  // What the citizen already set, read by the metadata reader when the file has been read (after renders).
  const current = useRef({ time, place });
  current.current = { time, place };

  /**
   * The camera's own time and place, when the file carries them (a photo's EXIF, an MP4's movie header), fill what
   * the citizen has not set.
   */
  const readMetadata = async (file: File) => {
    let facts: { local: string | null; gps: { lat: number; lon: number } | null; from: MetadataSource };
    if (file.type === 'image/jpeg') {
      const exif = readCameraFacts(await file.slice(0, EXIF_HEAD_BYTES).arrayBuffer());
      if (!exif) return;
      const local = exif.dateTimeOriginal ? exifToTashkentLocal(exif.dateTimeOriginal, exif.offset) : null;
      facts = { local, gps: exif.gps, from: 'photo' };
    } else if (file.type === 'video/mp4' || file.type === 'video/quicktime') {
      const video = await readVideoFacts(file);
      if (!video) return;
      facts = {
        local: video.createdAt ? toTashkentLocal(video.createdAt) : null,
        gps: video.gps,
        from: 'video',
      };
    } else return;
    if (facts.local && !current.current.time) {
      setTime(facts.local);
      setTimeFrom(facts.from);
    }
    if (facts.gps && !current.current.place) {
      setPlace({ lat: Math.round(facts.gps.lat * 1e6) / 1e6, lon: Math.round(facts.gps.lon * 1e6) / 1e6 });
      setPlaceFrom(facts.from);
    }
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
    setUploads((list) => [...list, ...added]);
    for (const u of added) {
      start(u);
      void readMetadata(u.file);
    }
    if (fileInput.current) fileInput.current.value = '';
  };

  const remove = (u: Upload) => {
    u.abort.abort();
    URL.revokeObjectURL(u.preview);
    setUploads((list) => list.filter((x) => x.key !== u.key));
  };

  const plateCheck = checkPlate(plateRules, plate);
  const timeIso = tashkentLocalToIso(time);
  const timeProblem = (() => {
    if (!timeIso) return null;
    const at = Date.parse(timeIso);
    if (at > Date.now() + FUTURE_SKEW_MS) return t.form.timeFuture;
    if (at < Date.now() - FILING_WINDOW_MS) return t.form.timeTooOld;
    return null;
  })();
  const evidenceIds = uploads.flatMap((u) => (u.state === 'done' && u.evidence ? [u.evidence.id] : []));
  const uploading = uploads.some((u) => u.state === 'uploading');

  const missing = [
    evidenceIds.length === 0 && !uploading ? t.form.missingEvidence : null,
    !violation ? t.form.missingViolation : null,
    plateCheck.state !== 'valid' ? t.form.missingPlate : null,
    !place ? t.form.missingPlace : null,
    !timeIso || timeProblem ? t.form.missingTime : null,
  ].filter((m): m is string => m !== null);

  const filtered = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return (types ?? []).filter((v) => {
      const hay = `${v.code} ${localName(v.name, lang)} ${v.name.en}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }, [types, query, lang]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitError(null);
    if (missing.length > 0 || uploading) {
      setShowMissing(true);
      requestAnimationFrame(() => missingRef.current?.focus());
      return;
    }
    const body = {
      violationCode: violation!,
      plate: plate.trim(),
      lat: place!.lat,
      lon: place!.lon,
      incidentAt: timeIso!,
      evidenceIds,
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    // One key per report as sent: a retry of the same report reuses it (the server answers with the report it
    // already filed); a changed report is a new request with a new key.
    const json = JSON.stringify(body);
    if (sent.current?.body !== json) sent.current = { key: newIdempotencyKey(), body: json };
    const key = sent.current.key;
    setSubmitting(true);
    for (let attempt = 1; ; attempt++) {
      try {
        const accepted = await api<Accepted>('/v1/reports', { body, headers: { 'idempotency-key': key } });
        navigate(`/reports/${accepted.id}`);
        return;
      } catch (err) {
        const retryable = asApiError(err).status === 0 || asApiError(err).status === 503;
        if (!retryable || attempt >= SUBMIT_ATTEMPTS) {
          setSubmitError(err);
          setSubmitting(false);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  };

  const selected = types?.find((v) => v.code === violation) ?? null;
  const plateMessage =
    plateCheck.state === 'valid'
      ? `✓ ${t.plate.valid(plateCheck.format ? t.plate.formats[plateCheck.format] : '', plateCheck.regionName)}`
      : plateCheck.state === 'invalid'
        ? t.plate.invalid
        : plateCheck.state === 'partial' && plateTouched
          ? t.plate.partial
          : t.plate.example;

  return (
    <Page title={t.form.title}>
      <form onSubmit={submit} className="form report-form" noValidate>
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

        <fieldset>
          <legend>{t.form.violation}</legend>
          <label htmlFor={ids.search}>{t.form.violationSearch}</label>
          <input
            id={ids.search}
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder={t.form.violationSearchHint}
            autoComplete="off"
          />
          {selected ? (
            <p className="selected" aria-live="polite">
              ✓ {localName(selected.name, lang)} ({selected.code})
            </p>
          ) : null}
          {typesError ? <ErrorNote error={typesError} onRetry={loadTypes} /> : null}
          {!types ? (
            typesError ? null : (
              <Loading />
            )
          ) : (
            <div className="choices" data-testid="violations">
              {filtered.length === 0 ? <p>{t.form.noMatches}</p> : null}
              {filtered.map((v) => (
                <label key={v.code} className={`choice${violation === v.code ? ' chosen' : ''}`}>
                  <input
                    type="radio"
                    name="violation"
                    value={v.code}
                    checked={violation === v.code}
                    onChange={() => setViolation(v.code)}
                  />
                  <span>
                    <span className="choice-title">{localName(v.name, lang)}</span>
                    <span className="hint">
                      {v.code}
                      {v.fineToday ? ` · ${t.form.fineFrom(fmt.money(v.fineToday.sumMin))}` : ''}
                    </span>
                  </span>
                </label>
              ))}
            </div>
          )}
        </fieldset>

        <div className="field">
          <label htmlFor={ids.plate}>{t.form.plate}</label>
          <input
            id={ids.plate}
            className={`plate-input ${plateCheck.state}`}
            value={plate}
            onChange={(e) => setPlate(e.target.value.toUpperCase())}
            onBlur={() => setPlateTouched(true)}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            maxLength={20}
            aria-invalid={plateCheck.state === 'invalid'}
            aria-describedby={ids.plateStatus}
            placeholder="01 A 123 BC"
            data-testid="plate"
          />
          <p
            id={ids.plateStatus}
            className={
              plateCheck.state === 'invalid' ? 'error' : plateCheck.state === 'valid' ? 'ok' : 'hint'
            }
            aria-live="polite"
            data-plate-state={plateCheck.state}
          >
            {plateMessage}
          </p>
        </div>

        <fieldset>
          <legend>{t.form.place}</legend>
          <p className="hint">{t.form.placeHint}</p>
          <Suspense fallback={<Loading />}>
            <MapPicker
              value={place}
              onChange={(p) => {
                setPlace(p);
                setPlaceFrom(null);
              }}
              note={placeFrom === 'photo' ? t.map.fromPhoto : placeFrom === 'video' ? t.map.fromVideo : null}
            />
          </Suspense>
        </fieldset>

        <div className="field">
          <label htmlFor={ids.time}>{t.form.time}</label>
          <div className="row">
            <input
              id={ids.time}
              type="datetime-local"
              value={time}
              max={toTashkentLocal(new Date(Date.now() + FUTURE_SKEW_MS))}
              onChange={(e) => {
                setTime(e.target.value);
                setTimeFrom(null);
              }}
              aria-describedby={ids.timeHint}
              aria-invalid={timeProblem !== null}
              data-testid="incident-time"
            />
            <button
              type="button"
              onClick={() => {
                setTime(toTashkentLocal(new Date()));
                setTimeFrom(null);
              }}
            >
              {t.form.timeNow}
            </button>
          </div>
          <p id={ids.timeHint} className={timeProblem ? 'error' : 'hint'} data-testid="time-hint">
            {timeProblem ??
              (timeFrom === 'photo'
                ? t.form.timeFromPhoto
                : timeFrom === 'video'
                  ? t.form.timeFromVideo
                  : t.form.timeHint)}
          </p>
        </div>

        <div className="field">
          <label htmlFor="description">{t.form.description}</label>
          <textarea
            id="description"
            rows={3}
            maxLength={2000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>

        {showMissing && (missing.length > 0 || uploading) ? (
          <div className="error-box" role="alert" tabIndex={-1} ref={missingRef}>
            {missing.length > 0 ? (
              <p>
                {t.form.missing} {missing.join(', ')}
              </p>
            ) : null}
            {uploading ? <p>{t.form.waitUpload}</p> : null}
          </div>
        ) : null}
        {submitError ? (
          <div className="error-box" role="alert">
            <p>
              {errorText(submitError)}
              {submitError instanceof ApiError && submitError.field ? ` (${submitError.field})` : ''}
            </p>
          </div>
        ) : null}
        <button type="submit" className="primary big" disabled={submitting} data-testid="submit">
          {submitting ? t.form.submitting : t.form.submit}
        </button>
      </form>
    </Page>
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
