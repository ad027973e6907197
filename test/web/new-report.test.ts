import { describe, expect, it } from 'vitest';
import type { Evidence } from '../../web/src/api/types.js';
import {
  derive,
  type FormAction,
  type FormState,
  formReducer,
  initialForm,
  reportBody,
  type Upload,
} from '../../web/src/citizen/new-report/reducer.js';

/** The report form's state and its transitions (the reducer the field components dispatch to), without a browser. */

const NOW = Date.parse('2026-11-27T05:05:00Z'); // 10:05 in Tashkent

function upload(key: string, type = 'image/jpeg'): Upload {
  return {
    key,
    file: new File([new Uint8Array(4)], `${key}.jpg`, { type }),
    preview: `blob:${key}`,
    progress: 0,
    state: 'uploading',
    abort: new AbortController(),
  };
}

const evidence = (id: string) => ({ id, kind: 'photo' }) as Evidence;

const run = (...actions: FormAction[]): FormState => actions.reduce(formReducer, initialForm);

/** A form with everything a report needs. */
const complete = (): FormState =>
  run(
    { type: 'filesAdded', uploads: [upload('a')] },
    { type: 'uploadChanged', key: 'a', change: { state: 'done', progress: 1, evidence: evidence('ev-1') } },
    { type: 'violationChosen', code: '128-4.2' },
    { type: 'plateTyped', value: '01 а 777 aa' },
    { type: 'placeSet', place: { lat: 41.3111, lon: 69.2797 } },
    { type: 'timeSet', time: '2026-11-27T10:00' },
  );

describe('the report form', () => {
  it('lists what is missing, in the order of the fields, until nothing is', () => {
    expect(derive(initialForm, NOW).missing).toEqual([
      'missingEvidence',
      'missingViolation',
      'missingPlate',
      'missingPlace',
      'missingTime',
    ]);
    const form = complete();
    const d = derive(form, NOW);
    expect(d.missing).toEqual([]);
    expect(d.plateCheck).toMatchObject({ state: 'valid', normalised: '01A777AA', format: 'private' });
    expect(d.timeIso).toBe('2026-11-27T10:00:00+05:00');
    expect(reportBody(form, d)).toEqual({
      violationCode: '128-4.2',
      plate: '01 А 777 AA',
      lat: 41.3111,
      lon: 69.2797,
      incidentAt: '2026-11-27T10:00:00+05:00',
      evidenceIds: ['ev-1'],
    });
    const described = formReducer(form, { type: 'descriptionTyped', value: '  ran the red light  ' });
    expect(reportBody(described, derive(described, NOW)).description).toBe('ran the red light');
  });

  it('waits for uploads in flight and counts only finished ones as evidence', () => {
    const uploading = run({ type: 'filesAdded', uploads: [upload('a'), upload('b')] });
    expect(derive(uploading, NOW)).toMatchObject({ uploading: true, evidenceIds: [] });
    // Evidence is not "missing" while a file is still on its way.
    expect(derive(uploading, NOW).missing).not.toContain('missingEvidence');
    const oneDone = formReducer(uploading, {
      type: 'uploadChanged',
      key: 'b',
      change: { state: 'done', evidence: evidence('ev-b') },
    });
    expect(derive(oneDone, NOW)).toMatchObject({ uploading: true, evidenceIds: ['ev-b'] });
    const failed = formReducer(oneDone, { type: 'uploadChanged', key: 'a', change: { state: 'failed' } });
    expect(derive(failed, NOW)).toMatchObject({ uploading: false, evidenceIds: ['ev-b'] });
    const removed = formReducer(failed, { type: 'uploadRemoved', key: 'b' });
    expect(removed.uploads.map((u) => u.key)).toEqual(['a']);
    expect(derive(removed, NOW).missing).toContain('missingEvidence');
  });

  it('fills the time and place from a file only where the citizen has set nothing', () => {
    const photo = formReducer(initialForm, {
      type: 'factsRead',
      facts: { local: '2026-11-27T09:50', gps: { lat: 41.31110049, lon: 69.27970051 }, from: 'photo' },
    });
    expect(photo).toMatchObject({
      time: '2026-11-27T09:50',
      timeFrom: 'photo',
      place: { lat: 41.3111, lon: 69.279701 },
      placeFrom: 'photo',
    });
    // A second file does not overwrite what the first one set.
    const video = formReducer(photo, {
      type: 'factsRead',
      facts: { local: '2026-11-27T09:55', gps: { lat: 40, lon: 65 }, from: 'video' },
    });
    expect(video).toBe(photo);
    // What the citizen changes is theirs: the note on where it came from goes, and no file overwrites it.
    const mine = run(
      { type: 'timeSet', time: '2026-11-27T10:01' },
      { type: 'factsRead', facts: { local: '2026-11-27T09:50', gps: { lat: 41, lon: 69 }, from: 'video' } },
    );
    expect(mine).toMatchObject({ time: '2026-11-27T10:01', timeFrom: null, placeFrom: 'video' });
    expect(formReducer(mine, { type: 'placeSet', place: { lat: 40, lon: 66 } })).toMatchObject({
      place: { lat: 40, lon: 66 },
      placeFrom: null,
    });
  });

  it('upper-cases the plate as it is typed and remembers the citizen left the field', () => {
    const typed = run({ type: 'plateTyped', value: '01 a 7' });
    expect(typed.plate).toBe('01 A 7');
    expect(typed.plateTouched).toBe(false);
    expect(derive(typed, NOW).plateCheck.state).toBe('partial');
    expect(formReducer(typed, { type: 'plateLeft' }).plateTouched).toBe(true);
    expect(derive(run({ type: 'plateTyped', value: 'ZZ' }), NOW).plateCheck.state).toBe('invalid');
  });

  it('refuses a time in the future or past the filing window', () => {
    const at = (time: string) => derive(run({ type: 'timeSet', time }), NOW);
    expect(at('2026-11-27T10:05').timeProblem).toBeNull();
    // Two minutes of clock skew are allowed.
    expect(at('2026-11-27T10:06').timeProblem).toBeNull();
    expect(at('2026-11-27T10:08')).toMatchObject({ timeProblem: 'timeFuture' });
    expect(at('2026-11-24T10:06').timeProblem).toBeNull();
    expect(at('2026-11-24T10:04')).toMatchObject({ timeProblem: 'timeTooOld' });
    expect(at('2026-11-27T10:08').missing).toContain('missingTime');
    expect(at('2026-11-27').timeIso).toBeNull();
  });

  it('shows what is missing on a refused send, and keeps a failed send’s error until the next try', () => {
    const refused = run({ type: 'sendFailed', error: new Error('earlier') }, { type: 'sendRefused' });
    expect(refused).toMatchObject({ showMissing: true, submitError: null, submitting: false });
    const sending = formReducer(complete(), { type: 'sendStarted' });
    expect(sending).toMatchObject({ submitting: true, submitError: null });
    const error = new Error('network');
    expect(formReducer(sending, { type: 'sendFailed', error })).toMatchObject({
      submitting: false,
      submitError: error,
    });
  });
});
