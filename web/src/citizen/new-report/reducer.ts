import { checkPlate, type PlateCheck } from '../../../../src/reference/plates.js';
import type { Evidence } from '../../api/types.js';
import type { Place } from '../../lib/geo.js';
import { tashkentLocalToIso } from '../../lib/time.js';

/**
 * The report form's state and every change to it, as one pure reducer: the field components dispatch what the
 * citizen did (or what a file's own metadata said), and `derive` reads what the form lacks before it can be sent.
 */

/** Which kind of file's own metadata filled the time or the place. */
export type MetadataSource = 'photo' | 'video';

export interface Upload {
  key: string;
  file: File;
  preview: string;
  progress: number;
  state: 'uploading' | 'done' | 'failed';
  evidence?: Evidence;
  error?: unknown;
  abort: AbortController;
}

export interface FormState {
  uploads: Upload[];
  violation: string | null;
  plate: string;
  /** The citizen has left the plate field once: from then on an unfinished plate is pointed out. */
  plateTouched: boolean;
  place: Place | null;
  /** Which file's own metadata the place was taken from, while the citizen has not changed it. */
  placeFrom: MetadataSource | null;
  /** Wall-clock Tashkent time as the `datetime-local` field holds it ("YYYY-MM-DDTHH:mm"). */
  time: string;
  timeFrom: MetadataSource | null;
  description: string;
  submitting: boolean;
  submitError: unknown;
  /** A send was tried with something missing: the list of what is missing stays on screen. */
  showMissing: boolean;
}

/** What a file's own metadata says (a photo's EXIF, an MP4's movie header), the time already on Tashkent's clock. */
export interface FileFacts {
  local: string | null;
  gps: { lat: number; lon: number } | null;
  from: MetadataSource;
}

export type FormAction =
  | { type: 'filesAdded'; uploads: Upload[] }
  | { type: 'uploadChanged'; key: string; change: Partial<Upload> }
  | { type: 'uploadRemoved'; key: string }
  | { type: 'factsRead'; facts: FileFacts }
  | { type: 'violationChosen'; code: string }
  | { type: 'plateTyped'; value: string }
  | { type: 'plateLeft' }
  | { type: 'placeSet'; place: Place | null }
  | { type: 'timeSet'; time: string }
  | { type: 'descriptionTyped'; value: string }
  | { type: 'sendRefused' }
  | { type: 'sendStarted' }
  | { type: 'sendFailed'; error: unknown };

export const initialForm: FormState = {
  uploads: [],
  violation: null,
  plate: '',
  plateTouched: false,
  place: null,
  placeFrom: null,
  time: '',
  timeFrom: null,
  description: '',
  submitting: false,
  submitError: null,
  showMissing: false,
};

export function formReducer(state: FormState, action: FormAction): FormState {
  switch (action.type) {
    case 'filesAdded':
      return { ...state, uploads: [...state.uploads, ...action.uploads] };
    case 'uploadChanged':
      return {
        ...state,
        uploads: state.uploads.map((u) => (u.key === action.key ? { ...u, ...action.change } : u)),
      };
    case 'uploadRemoved':
      return { ...state, uploads: state.uploads.filter((u) => u.key !== action.key) };
    case 'factsRead': {
      // A file's time and place fill what the citizen has not set, and never overwrite it.
      const { local, gps, from } = action.facts;
      const time = local && !state.time ? { time: local, timeFrom: from } : null;
      const place =
        gps && !state.place
          ? {
              place: { lat: Math.round(gps.lat * 1e6) / 1e6, lon: Math.round(gps.lon * 1e6) / 1e6 },
              placeFrom: from,
            }
          : null;
      return time || place ? { ...state, ...time, ...place } : state;
    }
    case 'violationChosen':
      return { ...state, violation: action.code };
    case 'plateTyped':
      return { ...state, plate: action.value.toUpperCase() };
    case 'plateLeft':
      return { ...state, plateTouched: true };
    case 'placeSet':
      return { ...state, place: action.place, placeFrom: null };
    case 'timeSet':
      return { ...state, time: action.time, timeFrom: null };
    case 'descriptionTyped':
      return { ...state, description: action.value };
    case 'sendRefused':
      return { ...state, submitError: null, showMissing: true };
    case 'sendStarted':
      return { ...state, submitError: null, submitting: true };
    case 'sendFailed':
      return { ...state, submitError: action.error, submitting: false };
  }
}

/** As the server's FILING_WINDOW_HOURS and FUTURE_SKEW_SECONDS defaults; the server has the last word. */
export const FILING_WINDOW_MS = 72 * 3600_000;
export const FUTURE_SKEW_MS = 120_000;

/** What the form still needs, in the order the fields appear (keys of the dictionary's `form`). */
export type Missing =
  | 'missingEvidence'
  | 'missingViolation'
  | 'missingPlate'
  | 'missingPlace'
  | 'missingTime';

export interface Derived {
  plateCheck: PlateCheck;
  /** The incident time as an instant with Tashkent's offset; null while the field is incomplete. */
  timeIso: string | null;
  timeProblem: 'timeFuture' | 'timeTooOld' | null;
  evidenceIds: string[];
  uploading: boolean;
  missing: Missing[];
}

export function derive(state: FormState, now: number): Derived {
  const plateCheck = checkPlate(state.plate);
  const timeIso = tashkentLocalToIso(state.time);
  let timeProblem: Derived['timeProblem'] = null;
  if (timeIso) {
    const at = Date.parse(timeIso);
    if (at > now + FUTURE_SKEW_MS) timeProblem = 'timeFuture';
    else if (at < now - FILING_WINDOW_MS) timeProblem = 'timeTooOld';
  }
  const evidenceIds = state.uploads.flatMap((u) => (u.state === 'done' && u.evidence ? [u.evidence.id] : []));
  const uploading = state.uploads.some((u) => u.state === 'uploading');
  const missing: Missing[] = [];
  if (evidenceIds.length === 0 && !uploading) missing.push('missingEvidence');
  if (!state.violation) missing.push('missingViolation');
  if (plateCheck.state !== 'valid') missing.push('missingPlate');
  if (!state.place) missing.push('missingPlace');
  if (!timeIso || timeProblem) missing.push('missingTime');
  return { plateCheck, timeIso, timeProblem, evidenceIds, uploading, missing };
}

/** The body of `POST /v1/reports`, once nothing is missing. */
export function reportBody(state: FormState, derived: Derived) {
  return {
    violationCode: state.violation!,
    plate: state.plate.trim(),
    lat: state.place!.lat,
    lon: state.place!.lon,
    incidentAt: derived.timeIso!,
    evidenceIds: derived.evidenceIds,
    ...(state.description.trim() ? { description: state.description.trim() } : {}),
  };
}
