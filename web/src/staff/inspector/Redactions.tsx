import { type PointerEvent, type ReactNode, type RefObject, useEffect, useRef, useState } from 'react';
import { useStaffErrorText, useStaffText } from '../i18n';
import { useShortcuts } from '../keys';
import { staffApi } from '../session';
import type { ReviewEvidence } from '../types';

/** A region to blur in the drivers' copy: fractions 0..1 of the picture's width and height. */
export type Region = { x: number; y: number; w: number; h: number };
type Point = { x: number; y: number };
type Rect = { left: number; top: number; width: number; height: number };
/** Where the picture is drawn (`box`) and the part of the page it can be seen in (`clip`), relative to the wrapper. */
type Geometry = { box: Rect; clip: Rect };
type Status = { state: 'idle' | 'saving' | 'saved' | 'full' } | { state: 'failed'; error: unknown };

/** The API's limit per file (src/driver/driver.schema.ts). */
const MAX_REGIONS = 32;
/** A drag shorter than this many CSS pixels either way is a slip of the mouse, not a region. */
const MIN_PX = 6;
const COLOUR = '#ffd43b';

/**
 * Regions of a photo or video to blur before a fined driver sees it (PUT …/redactions, docs/driver.md), drawn over
 * the evidence `children` show. The saved regions are always outlined; "Blur regions" (B) lets the inspector drag
 * new ones and remove any, then save the whole set. Esc leaves the mode, dropping what was not saved.
 */
export function Redactions({
  reportId,
  evidence,
  keysEnabled,
  children,
}: {
  reportId: string;
  evidence: ReviewEvidence;
  keysEnabled: boolean;
  children: ReactNode;
}) {
  // Sets saved on this screen, by file: the review data loaded with the report does not see them.
  const [saved, setSaved] = useState<Record<string, Region[]>>({});
  return (
    <RegionEditor
      key={evidence.id}
      reportId={reportId}
      evidence={evidence}
      regions={saved[evidence.id] ?? evidence.redactions}
      keysEnabled={keysEnabled}
      onSaved={(regions) => setSaved((m) => ({ ...m, [evidence.id]: regions }))}
    >
      {children}
    </RegionEditor>
  );
}

function RegionEditor({
  reportId,
  evidence,
  regions,
  keysEnabled,
  onSaved,
  children,
}: {
  reportId: string;
  evidence: ReviewEvidence;
  regions: Region[];
  keysEnabled: boolean;
  onSaved: (regions: Region[]) => void;
  children: ReactNode;
}) {
  const { s } = useStaffText();
  const wrapper = useRef<HTMLDivElement>(null);
  const geometry = useGeometry(wrapper);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Region[]>(regions);
  const [drag, setDrag] = useState<{ from: Point; to: Point } | null>(null);
  const [status, setStatus] = useState<Status>({ state: 'idle' });
  const shown = editing ? draft : regions;
  const dirty = editing && !sameRegions(draft, regions);

  const start = () => {
    if (!geometry || editing) return;
    setDraft(regions);
    setStatus({ state: 'idle' });
    setEditing(true);
  };
  const leave = () => {
    setDrag(null);
    setEditing(false);
    setDraft(regions);
    if (status.state !== 'saved') setStatus({ state: 'idle' });
  };
  const save = async () => {
    if (status.state === 'saving') return;
    setStatus({ state: 'saving' });
    try {
      const res = await staffApi<{ regions: Region[] }>(
        `/v1/review/${encodeURIComponent(reportId)}/evidence/${encodeURIComponent(evidence.id)}/redactions`,
        { method: 'PUT', body: { regions: draft } },
      );
      onSaved(res.regions);
      setDraft(res.regions);
      setStatus({ state: 'saved' });
    } catch (error) {
      setStatus({ state: 'failed', error });
    }
  };
  const remove = (i: number) => {
    setDraft((d) => d.filter((_, j) => j !== i));
    setStatus({ state: 'idle' });
  };

  useShortcuts({ b: start }, keysEnabled);
  useEscape(editing && keysEnabled, () => (drag ? setDrag(null) : leave()));

  const onDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    if (draft.length >= MAX_REGIONS) return setStatus({ state: 'full' });
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = pointIn(e);
    setDrag({ from: p, to: p });
  };
  const onMove = (e: PointerEvent<HTMLDivElement>) => {
    if (drag) setDrag({ from: drag.from, to: pointIn(e) });
  };
  const onUp = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag) return;
    setDrag(null);
    const r = regionOf(drag.from, pointIn(e));
    const size = e.currentTarget.getBoundingClientRect();
    if (r.w * size.width < MIN_PX || r.h * size.height < MIN_PX) return;
    setDraft((d) => [...d, r]);
    setStatus({ state: 'idle' });
  };

  return (
    <div ref={wrapper} style={{ position: 'relative' }} data-testid="redactions">
      {children}
      {geometry ? (
        <div
          style={{ ...px(geometry.clip), position: 'absolute', overflow: 'hidden', pointerEvents: 'none' }}
        >
          <div
            data-testid="redaction-canvas"
            data-editing={editing}
            onPointerDown={editing ? onDown : undefined}
            onPointerMove={editing ? onMove : undefined}
            onPointerUp={editing ? onUp : undefined}
            onPointerCancel={() => setDrag(null)}
            style={{
              ...px(offset(geometry.box, geometry.clip)),
              position: 'absolute',
              pointerEvents: editing ? 'auto' : 'none',
              cursor: editing ? 'crosshair' : undefined,
              touchAction: editing ? 'none' : undefined,
            }}
          >
            {shown.map((r, i) => (
              <div
                // biome-ignore lint/suspicious/noArrayIndexKey: a region has no identity but its place in the set
                key={i}
                data-testid="redaction"
                style={{
                  ...percent(r),
                  position: 'absolute',
                  boxSizing: 'border-box',
                  border: `2px ${editing ? 'solid' : 'dashed'} ${COLOUR}`,
                  boxShadow: '0 0 0 1px rgb(0 0 0 / 0.7)',
                  background: editing ? 'rgb(255 212 59 / 0.18)' : undefined,
                }}
              >
                {editing ? (
                  <button
                    type="button"
                    aria-label={s.redactions.remove(i + 1)}
                    title={s.redactions.remove(i + 1)}
                    onPointerDown={(e) => e.stopPropagation()}
                    onClick={() => remove(i)}
                    style={{
                      position: 'absolute',
                      top: 0,
                      right: 0,
                      minWidth: 0,
                      padding: '0 6px',
                      lineHeight: 1.4,
                      pointerEvents: 'auto',
                    }}
                  >
                    ×
                  </button>
                ) : null}
              </div>
            ))}
            {drag ? (
              <div
                style={{
                  ...percent(regionOf(drag.from, drag.to)),
                  position: 'absolute',
                  boxSizing: 'border-box',
                  border: `2px dashed ${COLOUR}`,
                }}
              />
            ) : null}
          </div>
        </div>
      ) : null}
      <div
        data-testid="redaction-bar"
        style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8, marginTop: 8 }}
      >
        {editing ? (
          <>
            <button
              type="button"
              className="primary"
              onClick={() => void save()}
              disabled={!dirty || status.state === 'saving'}
            >
              {s.redactions.save}
            </button>
            <button type="button" onClick={leave} aria-keyshortcuts="Escape">
              {s.redactions.leave} <kbd>Esc</kbd>
            </button>
          </>
        ) : (
          <button type="button" onClick={start} disabled={!geometry} aria-keyshortcuts="B">
            {s.redactions.start} <kbd>B</kbd>
          </button>
        )}
        <span data-testid="redaction-count">{s.redactions.count(shown.length)}</span>
        <StatusText status={status} dirty={dirty} />
      </div>
      {editing ? <p className="hint">{s.redactions.help}</p> : null}
    </div>
  );
}

function StatusText({ status, dirty }: { status: Status; dirty: boolean }) {
  const { s } = useStaffText();
  const errorText = useStaffErrorText();
  if (status.state === 'failed')
    return (
      <span role="alert" data-testid="redaction-status" data-state="failed">
        {s.redactions.failed}: {errorText(status.error)}
      </span>
    );
  const text =
    status.state === 'saving'
      ? s.redactions.saving
      : status.state === 'full'
        ? s.redactions.full(MAX_REGIONS)
        : dirty
          ? s.redactions.unsaved
          : status.state === 'saved'
            ? s.redactions.saved
            : '';
  return (
    <span role="status" data-testid="redaction-status" data-state={dirty ? 'unsaved' : status.state}>
      {text}
    </span>
  );
}

/**
 * Esc while the mode is on: handled before the review's own Esc (return the report undecided), which skips a key
 * whose default was prevented — so here Esc only closes the mode.
 */
function useEscape(enabled: boolean, handler: () => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      if (!e.repeat) latest.current();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [enabled]);
}

/** Follows where the evidence picture is drawn inside `wrapper`: it loads late, zooms, scrolls and resizes. */
function useGeometry(wrapper: RefObject<HTMLDivElement | null>): Geometry | null {
  const [geometry, setGeometry] = useState<Geometry | null>(null);
  useEffect(() => {
    const root = wrapper.current;
    if (!root) return;
    let media: Element | null = null;
    const measure = () => {
      const el = root.querySelector<HTMLImageElement | HTMLVideoElement>('img[data-testid="photo"], video');
      if (el !== media) {
        if (media) resize.unobserve(media);
        if (el) resize.observe(el);
        media = el;
      }
      const next = el ? geometryOf(root, el) : null;
      setGeometry((prev) => (sameGeometry(prev, next) ? prev : next));
    };
    const resize = new ResizeObserver(measure);
    const mutations = new MutationObserver(measure);
    resize.observe(root);
    mutations.observe(root, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['class', 'src'],
    });
    // These do not bubble; capturing catches them from the picture and its scrolling frame.
    for (const type of ['load', 'loadedmetadata', 'scroll']) root.addEventListener(type, measure, true);
    window.addEventListener('resize', measure);
    measure();
    return () => {
      resize.disconnect();
      mutations.disconnect();
      for (const type of ['load', 'loadedmetadata', 'scroll']) root.removeEventListener(type, measure, true);
      window.removeEventListener('resize', measure);
    };
  }, [wrapper]);
  return geometry;
}

/**
 * The picture's own rectangle: photos and videos are letterboxed inside their element (object-fit: contain), so
 * fractions of it are fractions of the file's natural width and height.
 */
function geometryOf(root: HTMLElement, el: HTMLImageElement | HTMLVideoElement): Geometry | null {
  const [nw, nh] =
    el instanceof HTMLImageElement ? [el.naturalWidth, el.naturalHeight] : [el.videoWidth, el.videoHeight];
  const r = el.getBoundingClientRect();
  if (!nw || !nh || !r.width || !r.height) return null;
  const fill = el instanceof HTMLImageElement && getComputedStyle(el).objectFit === 'fill';
  const scale = Math.min(r.width / nw, r.height / nh);
  const [w, h] = fill ? [r.width, r.height] : [nw * scale, nh * scale];
  const base = root.getBoundingClientRect();
  const box = {
    left: r.left + (r.width - w) / 2 - base.left,
    top: r.top + (r.height - h) / 2 - base.top,
    width: w,
    height: h,
  };
  return { box, clip: clipOf(root, el, base) };
}

/** The visible part of the nearest frame between the picture and `root` that clips it (a zoomed photo scrolls). */
function clipOf(root: HTMLElement, el: HTMLElement, base: DOMRect): Rect {
  for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
    if (getComputedStyle(a).overflow === 'visible') continue;
    const r = a.getBoundingClientRect();
    return {
      left: r.left + a.clientLeft - base.left,
      top: r.top + a.clientTop - base.top,
      width: a.clientWidth,
      height: a.clientHeight,
    };
  }
  return { left: 0, top: 0, width: base.width, height: base.height };
}

function pointIn(e: PointerEvent<HTMLElement>): Point {
  const r = e.currentTarget.getBoundingClientRect();
  return { x: clamp((e.clientX - r.left) / r.width), y: clamp((e.clientY - r.top) / r.height) };
}

/** The region two corners span, rounded to 1/10 000 and kept inside the picture. */
function regionOf(a: Point, b: Point): Region {
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  const x = round(Math.min(a.x, b.x));
  const y = round(Math.min(a.y, b.y));
  return {
    x,
    y,
    w: Math.min(round(Math.abs(a.x - b.x)), round(1 - x)),
    h: Math.min(round(Math.abs(a.y - b.y)), round(1 - y)),
  };
}

const clamp = (v: number) => Math.min(1, Math.max(0, v));
const offset = (r: Rect, by: Rect): Rect => ({ ...r, left: r.left - by.left, top: r.top - by.top });
const px = (r: Rect) => ({ left: r.left, top: r.top, width: r.width, height: r.height });
const percent = (r: Region) => ({
  left: `${r.x * 100}%`,
  top: `${r.y * 100}%`,
  width: `${r.w * 100}%`,
  height: `${r.h * 100}%`,
});

function sameRegions(a: Region[], b: Region[]): boolean {
  const near = (p: number, q: number) => Math.abs(p - q) < 1e-6;
  return (
    a.length === b.length &&
    a.every((r, i) => near(r.x, b[i]!.x) && near(r.y, b[i]!.y) && near(r.w, b[i]!.w) && near(r.h, b[i]!.h))
  );
}

function sameGeometry(a: Geometry | null, b: Geometry | null): boolean {
  if (!a || !b) return a === b;
  const same = (p: Rect, q: Rect) =>
    Math.abs(p.left - q.left) < 0.5 &&
    Math.abs(p.top - q.top) < 0.5 &&
    Math.abs(p.width - q.width) < 0.5 &&
    Math.abs(p.height - q.height) < 0.5;
  return same(a.box, b.box) && same(a.clip, b.clip);
}
