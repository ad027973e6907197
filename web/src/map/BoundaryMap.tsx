import {
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from 'react';
import { useI18n } from '../i18n';
import { type Area, type Box, type Point, project, unproject } from '../lib/geo';

export interface BoundaryMapProps {
  /** The outlines to draw; the first set decides the initial view. */
  areas: Area[];
  /** Finer outlines drawn over `areas` without fill (district borders), when given. */
  overlay?: Area[] | null;
  fill?: (a: Area) => string;
  /** Accessible text of an area (its <title>). */
  titleOf?: (a: Area) => string;
  onTap?: (place: { lon: number; lat: number }) => void;
  marker?: { lon: number; lat: number } | null;
  /** Tells the parent how far in the view is, as a fraction of the whole country's width. */
  onZoom?: (fraction: number) => void;
  label: string;
  /** Moves the view to a point (at a tenth of the country's width) each time `seq` changes. */
  focusOn?: { lon: number; lat: number; seq: number } | null;
  /** Extra buttons beside the zoom controls. */
  controls?: ReactNode;
  areaClass?: string;
}

const MIN_FRACTION = 1 / 300;
const MAX_FRACTION = 1.5;
/** A pointer that moved less than this between down and up tapped; more, it dragged. */
const TAP_SLOP_PX = 8;

/** Screen point → map point, through a given screen matrix (the one in force when a gesture started). */
function toMap(clientX: number, clientY: number, ctm: DOMMatrix | null): Point | null {
  if (!ctm) return null;
  const p = new DOMPoint(clientX, clientY).matrixTransform(ctm.inverse());
  return { x: p.x, y: p.y };
}

function padded(b: Box): Box {
  const p = Math.max(b.w, b.h) * 0.03;
  return { x: b.x - p, y: b.y - p, w: b.w + 2 * p, h: b.h + 2 * p };
}

/**
 * Boundaries as SVG with pan and zoom: drag (mouse, pen or one finger), pinch, wheel, the buttons or the keyboard
 * (arrows, + and −, Enter marks the centre). Paths are projected once; moving the view only changes the viewBox,
 * so panning over ~200 district outlines costs the browser a repaint, not a re-render of the paths.
 */
export function BoundaryMap(props: BoundaryMapProps & { home: Box }) {
  const { t } = useI18n();
  const svgRef = useRef<SVGSVGElement>(null);
  const home = useMemo(() => padded(props.home), [props.home]);
  const [view, setView] = useState<Box>(home);
  const [pxWidth, setPxWidth] = useState(600);
  const helpId = useId();
  const { onZoom, focusOn } = props;

  // A new focus request (a new object) moves the view; the parent keeps the same object otherwise.
  useEffect(() => {
    if (focusOn) setView(focusBox(home, focusOn, 0.08));
  }, [focusOn, home]);

  useEffect(() => {
    onZoom?.(view.w / home.w);
  }, [view.w, home.w, onZoom]);

  useEffect(() => {
    const el = svgRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setPxWidth(el.clientWidth || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const clampScale = useCallback(
    (w: number) => Math.min(home.w * MAX_FRACTION, Math.max(home.w * MIN_FRACTION, w)) / w,
    [home.w],
  );

  /** Zooms by `factor` (< 1 is in) keeping the point `at` where it is on screen. */
  const zoom = useCallback(
    (factor: number, at?: Point) => {
      setView((v) => {
        const f = factor * clampScale(v.w * factor);
        const c = at ?? { x: v.x + v.w / 2, y: v.y + v.h / 2 };
        return { x: c.x - (c.x - v.x) * f, y: c.y - (c.y - v.y) * f, w: v.w * f, h: v.h * f };
      });
    },
    [clampScale],
  );

  // Wheel zoom needs a non-passive listener to keep the page from scrolling; React's onWheel is passive.
  useEffect(() => {
    const el = svgRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const at = toMap(e.clientX, e.clientY, el.getScreenCTM());
      zoom(
        Math.exp(Math.max(-1, Math.min(1, e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)))),
        at ?? undefined,
      );
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [zoom]);

  const gesture = useRef<{
    pointers: Map<number, { x: number; y: number }>;
    start: Map<number, { x: number; y: number }>;
    view: Box;
    ctm: DOMMatrix | null;
    moved: number;
    multi: boolean;
  } | null>(null);

  const restart = (g: NonNullable<typeof gesture.current>) => {
    // A finger added or lifted: the gesture continues from here, under the current view.
    g.start = new Map(g.pointers);
    g.ctm = svgRef.current?.getScreenCTM() ?? null;
  };

  const onPointerDown = (e: PointerEvent<SVGSVGElement>) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const g = gesture.current ?? {
      pointers: new Map(),
      start: new Map(),
      view,
      ctm: null,
      moved: 0,
      multi: false,
    };
    g.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (g.pointers.size > 1) g.multi = true;
    g.view = view;
    restart(g);
    gesture.current = g;
  };

  const onPointerMove = (e: PointerEvent<SVGSVGElement>) => {
    const g = gesture.current;
    if (!g?.pointers.has(e.pointerId)) return;
    const prev = g.pointers.get(e.pointerId)!;
    g.moved += Math.hypot(e.clientX - prev.x, e.clientY - prev.y);
    g.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const ids = [...g.pointers.keys()].slice(0, 2);
    const mid = (m: Map<number, { x: number; y: number }>) => {
      const ps = ids.map((id) => m.get(id)!);
      return {
        x: ps.reduce((s, p) => s + p.x, 0) / ps.length,
        y: ps.reduce((s, p) => s + p.y, 0) / ps.length,
        d: ps.length === 2 ? Math.hypot(ps[0]!.x - ps[1]!.x, ps[0]!.y - ps[1]!.y) : 0,
      };
    };
    const a = mid(g.start);
    const b = mid(g.pointers);
    const p0 = toMap(a.x, a.y, g.ctm);
    const p1 = toMap(b.x, b.y, g.ctm);
    if (!p0 || !p1) return;
    let s = ids.length === 2 && b.d > 0 ? a.d / b.d : 1;
    s *= clampScale(g.view.w * s);
    const v = g.view;
    setView({ x: p0.x - (p1.x - v.x) * s, y: p0.y - (p1.y - v.y) * s, w: v.w * s, h: v.h * s });
  };

  const onPointerUp = (e: PointerEvent<SVGSVGElement>) => {
    const g = gesture.current;
    if (!g?.pointers.has(e.pointerId)) return;
    g.pointers.delete(e.pointerId);
    if (g.pointers.size > 0) {
      g.view = view;
      restart(g);
      return;
    }
    gesture.current = null;
    if (e.type === 'pointerup' && !g.multi && g.moved < TAP_SLOP_PX && props.onTap) {
      const p = toMap(e.clientX, e.clientY, svgRef.current?.getScreenCTM() ?? null);
      if (p) props.onTap(unproject(p));
    }
  };

  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    const step = 0.1;
    const pan = (dx: number, dy: number) => setView((v) => ({ ...v, x: v.x + dx * v.w, y: v.y + dy * v.h }));
    const markCentre = () => props.onTap?.(unproject({ x: view.x + view.w / 2, y: view.y + view.h / 2 }));
    switch (e.key) {
      case 'ArrowLeft':
        pan(-step, 0);
        break;
      case 'ArrowRight':
        pan(step, 0);
        break;
      case 'ArrowUp':
        pan(0, -step);
        break;
      case 'ArrowDown':
        pan(0, step);
        break;
      case '+':
      case '=':
        zoom(0.7);
        break;
      case '-':
        zoom(1 / 0.7);
        break;
      case '0':
        setView(home);
        break;
      case 'Enter':
      case ' ':
        if (!props.onTap) return;
        markCentre();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const unitsPerPx = Math.max(view.w / pxWidth, view.h / ((pxWidth * home.h) / home.w));
  const m = props.marker ? project(props.marker.lon, props.marker.lat) : null;
  const r = 7 * unitsPerPx;

  return (
    <div className="map">
      <svg
        ref={svgRef}
        className={`map-svg${props.onTap ? ' map-pick' : ''}`}
        viewBox={`${view.x} ${view.y} ${view.w} ${view.h}`}
        style={{ aspectRatio: `${home.w} / ${home.h}` }}
        role="application"
        aria-label={props.label}
        aria-describedby={helpId}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: role="application" is the map widget; it takes the keys
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      >
        <g className={props.areaClass ?? 'area'}>
          {props.areas.map((a) => (
            // The fill goes in `style` so that it wins over the stylesheet's default fill of outlines.
            <path
              key={a.id}
              d={a.d}
              style={props.fill ? { fill: props.fill(a) } : undefined}
              data-area={a.id}
            >
              {props.titleOf ? <title>{props.titleOf(a)}</title> : null}
            </path>
          ))}
        </g>
        {props.overlay ? (
          <g className="area-overlay">
            {props.overlay.map((a) => (
              <path key={a.id} d={a.d} />
            ))}
          </g>
        ) : null}
        {m ? (
          <g className="marker">
            <circle cx={m.x} cy={m.y} r={r * 1.8} className="marker-halo" />
            <circle cx={m.x} cy={m.y} r={r} />
          </g>
        ) : null}
        {props.onTap ? (
          <g className="crosshair">
            <path
              d={`M${view.x + view.w / 2 - r * 2} ${view.y + view.h / 2}h${r * 4}M${view.x + view.w / 2} ${view.y + view.h / 2 - r * 2}v${r * 4}`}
            />
          </g>
        ) : null}
      </svg>
      <p id={helpId} className="sr-only">
        {t.map.keys}
      </p>
      <div className="map-controls">
        <button type="button" onClick={() => zoom(0.6)} aria-label={t.map.zoomIn} title={t.map.zoomIn}>
          +
        </button>
        <button type="button" onClick={() => zoom(1 / 0.6)} aria-label={t.map.zoomOut} title={t.map.zoomOut}>
          −
        </button>
        <button type="button" onClick={() => setView(home)}>
          {t.map.reset}
        </button>
        {props.controls}
      </div>
    </div>
  );
}

/** Centres the view on a point at a given zoom (fraction of the country's width). */
export function focusBox(home: Box, at: { lon: number; lat: number }, fraction: number): Box {
  const c = project(at.lon, at.lat);
  const w = home.w * fraction;
  const h = home.h * fraction;
  return { x: c.x - w / 2, y: c.y - h / 2, w, h };
}
