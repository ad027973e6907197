import { useCallback, useEffect, useState } from 'react';
import { Page } from '../app/common';
import { Audit } from './admin/Audit';
import { StaffAccounts } from './admin/StaffAccounts';
import { Units } from './admin/Units';
import { StaffError, useStaffText } from './i18n';
import { StaffGate } from './StaffFrame';
import { ADMIN_ROLES, staffApi } from './session';
import type { Unit } from './types';

type Tab = 'staff' | 'units' | 'audit';

/** /staff/admin (administrators): staff accounts, police units, the audit log. */
export default function Admin() {
  const { s } = useStaffText();
  return (
    <StaffGate roles={ADMIN_ROLES}>
      <Page title={s.admin.title} wide>
        <AdminTabs />
      </Page>
    </StaffGate>
  );
}

function AdminTabs() {
  const { s } = useStaffText();
  const [tab, setTab] = useState<Tab>('staff');
  const [units, setUnits] = useState<Unit[]>([]);
  const [error, setError] = useState<unknown>(null);
  const loadUnits = useCallback(async () => {
    try {
      setUnits((await staffApi<{ items: Unit[] }>('/v1/units')).items);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void loadUnits();
  }, [loadUnits]);
  const tabs: [Tab, string][] = [
    ['staff', s.admin.staff],
    ['units', s.units.title],
    ['audit', s.audit.title],
  ];
  return (
    <>
      <nav className="row tabs" aria-label={s.admin.title}>
        {tabs.map(([t, label]) => (
          <button key={t} type="button" aria-pressed={tab === t} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </nav>
      {error ? <StaffError error={error} onRetry={loadUnits} /> : null}
      {tab === 'staff' ? <StaffAccounts units={units} /> : null}
      {tab === 'units' ? <Units units={units} reload={loadUnits} /> : null}
      {tab === 'audit' ? <Audit /> : null}
    </>
  );
}
