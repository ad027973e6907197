import { type FormEvent, useEffect, useState } from 'react';
import { StaffError, useStaffText } from '../i18n';
import { staffApi } from '../session';
import type { District, Unit } from '../types';

/** Police units with the districts each covers (GET /v1/units, POST/PATCH /v1/admin/units). */
export function Units({ units, reload }: { units: Unit[]; reload: () => Promise<void> }) {
  const { s } = useStaffText();
  const [districts, setDistricts] = useState<District[]>([]);
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');

  const loadDistricts = async () => {
    try {
      setDistricts((await staffApi<{ items: District[] }>('/v1/districts')).items);
    } catch (err) {
      setError(err);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, and again after each change (below)
  useEffect(() => {
    void loadDistricts();
  }, []);

  const saved = async (name: string) => {
    setEditing(null);
    setDone(s.units.saved(name));
    await Promise.all([reload(), loadDistricts()]);
  };

  return (
    <section aria-labelledby="units-title" data-testid="admin-units">
      <h2 id="units-title">{s.units.title}</h2>
      <p className="ok" role="status">
        {done}
      </p>
      {error ? <StaffError error={error} /> : null}
      {editing === 'new' ? (
        <UnitForm districts={districts} onSaved={saved} onCancel={() => setEditing(null)} />
      ) : (
        <button type="button" onClick={() => setEditing('new')}>
          {s.units.create}
        </button>
      )}
      <ul className="unit-list">
        {units.map((u) => (
          <li key={u.id} data-unit={u.name}>
            {editing === u.id ? (
              <UnitForm unit={u} districts={districts} onSaved={saved} onCancel={() => setEditing(null)} />
            ) : (
              <>
                <h3>
                  {u.name}
                  {u.active ? null : <span className="hint"> · {s.units.inactive}</span>}
                </h3>
                <p className="hint">{s.units.staffCount(u.staffCount)}</p>
                <p>
                  {u.districts.length === 0
                    ? s.units.noDistricts
                    : u.districts
                        .map((d) => (d.regionName ? `${d.name} (${d.regionName})` : d.name))
                        .join(', ')}
                </p>
                <button type="button" onClick={() => setEditing(u.id)} aria-label={s.units.editLabel(u.name)}>
                  {s.units.edit}
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function UnitForm({
  unit,
  districts,
  onSaved,
  onCancel,
}: {
  unit?: Unit;
  districts: District[];
  onSaved: (name: string) => void;
  onCancel: () => void;
}) {
  const { s } = useStaffText();
  const [name, setName] = useState(unit?.name ?? '');
  const [picked, setPicked] = useState<Set<number>>(new Set(unit?.districts.map((d) => d.id) ?? []));
  const [active, setActive] = useState(unit?.active ?? true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { name: name.trim(), districtIds: [...picked].sort((a, b) => a - b) };
    try {
      if (unit)
        await staffApi(`/v1/admin/units/${unit.id}`, {
          method: 'PATCH',
          body: { ...body, ...(active !== unit.active ? { active } : {}) },
        });
      else await staffApi('/v1/admin/units', { body });
      onSaved(body.name);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  // Grouped by region; a district another unit covers is shown but cannot be picked (DISTRICT_TAKEN).
  const regions = new Map<string, District[]>();
  for (const d of districts) {
    const r = d.regionName ?? '—';
    regions.set(r, [...(regions.get(r) ?? []), d]);
  }
  const toggle = (id: number, on: boolean) =>
    setPicked((p) => {
      const n = new Set(p);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });

  return (
    <form
      onSubmit={submit}
      className="form"
      aria-label={unit ? s.units.editLabel(unit.name) : s.units.create}
    >
      <label>
        {s.units.name}
        <input required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {unit ? (
        <label className="check">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />{' '}
          {s.units.active}
        </label>
      ) : null}
      <fieldset className="district-picker">
        <legend>{s.units.districts(picked.size)}</legend>
        {[...regions].map(([region, list]) => (
          <details key={region} open={list.some((d) => picked.has(d.id))}>
            <summary>{region}</summary>
            {list.map((d) => {
              const other = d.unitId != null && d.unitId !== unit?.id;
              return (
                <label key={d.id} className="check">
                  <input
                    type="checkbox"
                    checked={picked.has(d.id)}
                    disabled={other}
                    onChange={(e) => toggle(d.id, e.target.checked)}
                  />{' '}
                  {d.name}
                  {other ? <span className="hint"> · {s.units.otherUnit}</span> : null}
                </label>
              );
            })}
          </details>
        ))}
      </fieldset>
      {error ? <StaffError error={error} /> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={busy || !name.trim()}>
          {s.units.save}
        </button>
        <button type="button" onClick={onCancel}>
          {s.units.cancel}
        </button>
      </div>
    </form>
  );
}
