import { Page } from '../app/common';
import { matchPath, useLocation } from '../app/router';
import { useStaffText } from './i18n';
import { Dashboard } from './ops/Dashboard';
import { StaffGate } from './StaffFrame';
import { OPERATOR_ROLES } from './session';

/** The operator console: /ops, the live dashboard with alerts and dead letters (admins). */
export default function Ops() {
  const { path } = useLocation();
  const { s } = useStaffText();
  return (
    <StaffGate roles={OPERATOR_ROLES}>
      {matchPath('/ops', path) ? (
        <Dashboard />
      ) : (
        <Page title={s.notFound}>
          <p>{s.notFound}</p>
        </Page>
      )}
    </StaffGate>
  );
}
