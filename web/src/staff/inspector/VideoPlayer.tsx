import { useRef, useState } from 'react';
import { useStaffText } from '../i18n';
import { useShortcuts } from '../keys';
import { useEvidenceFile, useThumbnail } from '../media';
import { Progress } from './FileProgress';

/** One frame at 30 frames a second: the step of ← and →. Phone and dashcam video is 25–60 fps; 1/30 s lands on
 * or next to every frame of 25–30 fps footage and on every other frame of 60 fps. */
const FRAME = 1 / 30;

function seconds(t: number): string {
  const m = Math.floor(t / 60);
  return `${m}:${(t - m * 60).toFixed(3).padStart(6, '0')}`;
}

/**
 * The evidence video, fetched whole with the staff token (the evidence route reads only the Authorization header,
 * which a <video src> cannot send) and played from an object URL. Space plays and pauses; ← and → pause and step
 * one frame; with Shift, one second. The browser's own controls stay for the mouse.
 */
export function VideoPlayer({
  path,
  poster,
  label,
  keysEnabled,
}: {
  path: string;
  poster: string | null;
  label: string;
  keysEnabled: boolean;
}) {
  const { s } = useStaffText();
  const file = useEvidenceFile(path);
  const posterUrl = useThumbnail(poster);
  const video = useRef<HTMLVideoElement>(null);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);
  const [paused, setPaused] = useState(true);

  const toggle = () => {
    const v = video.current;
    if (!v) return;
    if (v.paused) v.play().catch(() => {});
    else v.pause();
  };
  const step = (by: number) => {
    const v = video.current;
    if (!v) return;
    v.pause();
    const end = Number.isFinite(v.duration) ? v.duration : Number.POSITIVE_INFINITY;
    v.currentTime = Math.max(0, Math.min(end, v.currentTime + by));
    setTime(v.currentTime);
  };
  useShortcuts(
    {
      space: toggle,
      arrowleft: () => step(-FRAME),
      arrowright: () => step(FRAME),
      'shift+arrowleft': () => step(-1),
      'shift+arrowright': () => step(1),
    },
    keysEnabled && file.state === 'ready',
  );

  if (file.state !== 'ready')
    return (
      <div className="video-wait">
        {posterUrl ? <img src={posterUrl} alt="" className="video-poster" /> : null}
        <Progress file={file} />
      </div>
    );
  return (
    <figure className="player">
      {/* biome-ignore lint/a11y/useMediaCaption: dashcam evidence has no speech to caption */}
      <video
        ref={video}
        src={file.url}
        poster={posterUrl ?? undefined}
        controls
        preload="auto"
        playsInline
        aria-label={label}
        data-testid="video"
        onTimeUpdate={(e) => setTime(e.currentTarget.currentTime)}
        onSeeked={(e) => setTime(e.currentTarget.currentTime)}
        onLoadedMetadata={(e) => setDuration(e.currentTarget.duration)}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
      />
      <figcaption className="player-bar">
        <button type="button" onClick={() => step(-FRAME)} aria-keyshortcuts="ArrowLeft">
          {s.video.back} <kbd>←</kbd>
        </button>
        <button type="button" onClick={toggle} aria-keyshortcuts="Space" data-testid="play">
          {paused ? s.video.play : s.video.pause} <kbd>Space</kbd>
        </button>
        <button type="button" onClick={() => step(FRAME)} aria-keyshortcuts="ArrowRight">
          {s.video.forward} <kbd>→</kbd>
        </button>
        <span className="player-time" data-testid="video-time" data-seconds={time.toFixed(3)}>
          {seconds(time)} / {seconds(duration || 0)} · {s.video.frame(Math.round(time / FRAME))}
        </span>
      </figcaption>
    </figure>
  );
}
