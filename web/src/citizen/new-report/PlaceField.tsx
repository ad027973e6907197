import { type Dispatch, Suspense } from 'react';
import { Loading } from '../../app/common';
import { MAP_PICKER } from '../../app/prefetch';
import { useI18n } from '../../i18n';
import type { Place } from '../../lib/geo';
import type { FormAction, MetadataSource } from './reducer';

const MapPicker = MAP_PICKER.Component;

/** Where it happened: a tap on the map, the phone's location, or a file's own position. */
export function PlaceField({
  place,
  from,
  dispatch,
}: {
  place: Place | null;
  from: MetadataSource | null;
  dispatch: Dispatch<FormAction>;
}) {
  const { t } = useI18n();
  return (
    <fieldset>
      <legend>{t.form.place}</legend>
      <p className="hint">{t.form.placeHint}</p>
      <Suspense fallback={<Loading />}>
        <MapPicker
          value={place}
          onChange={(p) => dispatch({ type: 'placeSet', place: p })}
          note={from === 'photo' ? t.map.fromPhoto : from === 'video' ? t.map.fromVideo : null}
        />
      </Suspense>
    </fieldset>
  );
}
