import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { areaName, useI18n } from '../i18n';
import { areaAt, type Box, boundsOf, type Place } from '../lib/geo';
import { BoundaryMap } from './BoundaryMap';
import { FULL_DETAIL_BELOW, useAreas } from './boundaries';

/**
 * Where it happened: tap the map, use the phone's position, or type coordinates. Says which region and district
 * the point falls in, and warns when it is outside the country (the validate stage would reject it).
 */
export default function MapPicker({
  value,
  onChange,
  note,
}: {
  value: Place | null;
  onChange: (p: Place) => void;
  note?: string | null;
}) {
  const { t, lang } = useI18n();
  const [wantDistricts, setWantDistricts] = useState(false);
  const [locating, setLocating] = useState(false);
  const [locError, setLocError] = useState(false);
  const [focus, setFocus] = useState<{ lon: number; lat: number; seq: number } | null>(null);
  const statusId = useId();

  // The outline draws first; once a place is set the full detail follows, so that the region named near a border
  // is the one the ~0.5 km outline might have got wrong for a moment.
  const regionAreas = useAreas('region', { full: value !== null || wantDistricts });
  const regions = regionAreas.areas;
  const districts = useAreas('district', { full: true, enabled: wantDistricts || value !== null }).areas;
  const failed = regionAreas.failed !== null && !regions;

  const [home, setHome] = useState<Box | null>(null);
  if (!home && regions) setHome(boundsOf(regions));
  const onZoom = useCallback((f: number) => {
    // Zoomed in as far as the full detail is drawn from: the district borders are fetched and drawn as well.
    if (f < FULL_DETAIL_BELOW) setWantDistricts(true);
  }, []);

  // A place set from elsewhere (the phone's position, the photo's GPS, typed coordinates) brings the view to it;
  // a tap on the map does not move the map under the finger.
  const tapped = useRef<Place | null>(null);
  useEffect(() => {
    if (value && value !== tapped.current) setFocus((f) => ({ ...value, seq: (f?.seq ?? 0) + 1 }));
  }, [value]);
  const onTap = (p: { lat: number; lon: number }) => {
    const place = { lat: round(p.lat), lon: round(p.lon) };
    tapped.current = place;
    onChange(place);
  };

  const locate = () => {
    if (!navigator.geolocation) {
      setLocError(true);
      return;
    }
    setLocating(true);
    setLocError(false);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setLocating(false);
        onChange({ lat: round(pos.coords.latitude), lon: round(pos.coords.longitude) });
      },
      () => {
        setLocating(false);
        setLocError(true);
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  };

  const region = value && regions ? areaAt(regions, value.lon, value.lat) : null;
  const district = value && districts ? areaAt(districts, value.lon, value.lat) : null;
  const regionName = region ? areaName(t, region) : null;

  if (failed) return <p className="error">{t.map.loadFailed}</p>;
  if (!regions || !home) return <div className="map-loading">{t.app.loading}</div>;
  return (
    <div className="picker">
      <BoundaryMap
        areas={regions}
        overlay={wantDistricts ? districts : null}
        home={home}
        label={t.map.label}
        marker={value}
        focusOn={focus}
        onZoom={onZoom}
        onTap={onTap}
        titleOf={(a) => areaName(t, a)}
        controls={
          <button type="button" onClick={locate} disabled={locating} className="primary-outline">
            {locating ? t.map.locating : t.map.myLocation}
          </button>
        }
      />
      <p id={statusId} className="picker-status" aria-live="polite" data-testid="place-status">
        {value ? (
          <>
            {t.map.chosen(value.lat.toFixed(5), value.lon.toFixed(5))}
            {regionName ? ` — ${[district?.name, regionName].filter(Boolean).join(', ')}` : null}
            {!region ? <span className="error"> {t.map.outside}</span> : null}
          </>
        ) : (
          t.map.none
        )}
        {locError ? <span className="error"> {t.map.locationDenied}</span> : null}
        {note ? <span className="hint"> {note}</span> : null}
      </p>
      <CoordinateInput key={`${value?.lat},${value?.lon},${lang}`} value={value} onChange={onChange} />
    </div>
  );
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Typed coordinates: the keyboard and screen-reader way to set the place, and for a place read off elsewhere. */
function CoordinateInput({ value, onChange }: { value: Place | null; onChange: (p: Place) => void }) {
  const { t } = useI18n();
  const [lat, setLat] = useState(value ? String(value.lat) : '');
  const [lon, setLon] = useState(value ? String(value.lon) : '');
  const la = Number(lat);
  const lo = Number(lon);
  const ok = lat !== '' && lon !== '' && Math.abs(la) <= 90 && Math.abs(lo) <= 180;
  return (
    <details className="coords">
      <summary>{t.map.coordinates}</summary>
      <div className="coords-row">
        <label>
          {t.map.lat}
          <input inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value.replace(',', '.'))} />
        </label>
        <label>
          {t.map.lon}
          <input inputMode="decimal" value={lon} onChange={(e) => setLon(e.target.value.replace(',', '.'))} />
        </label>
        <button type="button" disabled={!ok} onClick={() => onChange({ lat: la, lon: lo })}>
          {t.map.set}
        </button>
      </div>
    </details>
  );
}
