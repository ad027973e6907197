import { useState } from 'react';
import { useStaffText } from '../i18n';
import { useShortcuts } from '../keys';
import { useEvidenceFile, useThumbnail } from '../media';
import type { ReviewEvidence } from '../types';
import { Progress } from './FileProgress';
import { Redactions } from './Redactions';
import { VideoPlayer } from './VideoPlayer';

/** Metres between two points (haversine; ample for "how far is the camera's GPS from the claimed place"). */
function metres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

/**
 * The report's photos and videos: a strip of thumbnails (J/K move through them), the chosen one large — a photo
 * (Z toggles fit and full size) or the video player with frame stepping, either with its regions to blur for
 * drivers (B) — and what its camera recorded.
 */
export function EvidenceViewer({
  reportId,
  evidence,
  incidentAt,
  location,
  keysEnabled,
}: {
  reportId: string;
  evidence: ReviewEvidence[];
  incidentAt: string;
  location: { lat: number; lon: number };
  keysEnabled: boolean;
}) {
  const { s } = useStaffText();
  const [index, setIndex] = useState(0);
  const [zoomed, setZoomed] = useState(false);
  const current = evidence[index];
  const go = (by: number) => {
    if (evidence.length < 2) return;
    setIndex((i) => (i + by + evidence.length) % evidence.length);
    setZoomed(false);
  };
  useShortcuts(
    {
      j: () => go(1),
      k: () => go(-1),
      z: () => current?.kind === 'photo' && setZoomed((z) => !z),
    },
    keysEnabled,
  );

  if (!current) return <section className="evidence">{s.evidence.none}</section>;
  const label = (e: ReviewEvidence, i: number) =>
    s.evidence.itemLabel(e.kind === 'video' ? s.evidence.video : s.evidence.photo, i + 1, evidence.length);
  return (
    <section className="evidence" aria-label={s.evidence.title}>
      <h2 className="sr-only">{s.evidence.title}</h2>
      <Redactions reportId={reportId} evidence={current} keysEnabled={keysEnabled}>
        <div className="evidence-stage" data-testid="evidence-stage" data-kind={current.kind}>
          {current.kind === 'video' ? (
            <VideoPlayer
              key={current.id}
              path={current.urls.original}
              poster={current.urls.poster}
              label={label(current, index)}
              keysEnabled={keysEnabled}
            />
          ) : (
            <Photo
              key={current.id}
              path={current.urls.original}
              alt={label(current, index)}
              zoomed={zoomed}
              onToggle={() => setZoomed((z) => !z)}
            />
          )}
        </div>
      </Redactions>
      {evidence.length > 1 ? (
        <ul className="thumbs" aria-label={s.evidence.all}>
          {evidence.map((e, i) => (
            <li key={e.id}>
              <ThumbButton
                e={e}
                label={label(e, i)}
                pressed={i === index}
                onClick={() => {
                  setIndex(i);
                  setZoomed(false);
                }}
              />
            </li>
          ))}
        </ul>
      ) : null}
      <CameraFacts e={current} incidentAt={incidentAt} location={location} />
    </section>
  );
}

function ThumbButton({
  e,
  label,
  pressed,
  onClick,
}: {
  e: ReviewEvidence;
  label: string;
  pressed: boolean;
  onClick: () => void;
}) {
  const url = useThumbnail(e.urls.thumbnail ?? e.urls.poster);
  return (
    <button type="button" className="thumb-button" aria-pressed={pressed} onClick={onClick} title={label}>
      {url ? (
        <img src={url} alt="" width={96} height={54} />
      ) : (
        <span className="thumb-none" aria-hidden="true" />
      )}
      <span className="sr-only">{label}</span>
      {e.kind === 'video' ? (
        <span className="thumb-kind" aria-hidden="true">
          ▶
        </span>
      ) : null}
    </button>
  );
}

function Photo({
  path,
  alt,
  zoomed,
  onToggle,
}: {
  path: string;
  alt: string;
  zoomed: boolean;
  onToggle: () => void;
}) {
  const { s } = useStaffText();
  const file = useEvidenceFile(path);
  if (file.state !== 'ready') return <Progress file={file} />;
  return (
    <div className={`photo${zoomed ? ' zoomed' : ''}`}>
      <button
        type="button"
        className="photo-button"
        onClick={onToggle}
        aria-pressed={zoomed}
        aria-keyshortcuts="Z"
        title={s.evidence.zoom}
      >
        <img src={file.url} alt={alt} data-testid="photo" />
      </button>
    </div>
  );
}

/** What the camera recorded, set against the report's claim where both exist. */
function CameraFacts({
  e,
  incidentAt,
  location,
}: {
  e: ReviewEvidence;
  incidentAt: string;
  location: { lat: number; lon: number };
}) {
  const { s, fmt } = useStaffText();
  const minutes = e.cameraTime
    ? Math.round((Date.parse(e.cameraTime) - Date.parse(incidentAt)) / 60_000)
    : null;
  const away = e.cameraGps ? Math.round(metres(e.cameraGps, location)) : null;
  return (
    <dl className="facts camera-facts">
      <dt>{s.evidence.file}</dt>
      <dd>
        {e.kind === 'video' ? s.evidence.video : s.evidence.photo}, {e.mime},{' '}
        {fmt.number(Math.round(e.bytes / 1024))} kB
        {e.width && e.height ? `, ${e.width}×${e.height}` : ''}
        {e.durationMs !== null ? `, ${(e.durationMs / 1000).toFixed(1)} s` : ''}
      </dd>
      <dt>{s.evidence.cameraTime}</dt>
      <dd>
        {e.cameraTime ? (
          <>
            {fmt.dateTime(e.cameraTime)} <span className="hint">({s.evidence.offBy(minutes!)})</span>
          </>
        ) : (
          s.evidence.unknown
        )}
      </dd>
      <dt>{s.evidence.cameraGps}</dt>
      <dd>
        {e.cameraGps ? (
          <>
            {e.cameraGps.lat.toFixed(5)}, {e.cameraGps.lon.toFixed(5)}{' '}
            <span className="hint">({s.evidence.away(fmt.number(away!))})</span>
          </>
        ) : (
          s.evidence.unknown
        )}
      </dd>
      {e.camera ? (
        <>
          <dt>{s.evidence.camera}</dt>
          <dd>{e.camera}</dd>
        </>
      ) : null}
      {e.sharpness !== null || e.brightness !== null ? (
        <>
          <dt>{s.evidence.quality}</dt>
          <dd>
            {s.evidence.sharpness}: {e.sharpness !== null ? fmt.number(Math.round(e.sharpness)) : '—'},{' '}
            {s.evidence.brightness}: {e.brightness !== null ? fmt.number(Math.round(e.brightness)) : '—'}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
