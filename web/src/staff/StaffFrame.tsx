import { type ReactNode, useEffect } from 'react';
import { Loading, Page } from '../app/common';
import { Link, navigate } from '../app/router';
import { useStaffText } from './i18n';
import { forgetEvidence } from './media';
import {
  ADMIN_ROLES,
  endStaffSession,
  OPERATOR_ROLES,
  REVIEWER_ROLES,
  type StaffRole,
  SUPERVISOR_ROLES,
  useStaffSession,
} from './session';
import './staff.css';

export function signOutStaff(): void {
  endStaffSession();
  forgetEvidence();
  navigate('/staff/sign-in');
}

/**
 * A staff page: a signed-out visitor is sent to the staff sign-in and brought back; a signed-in member whose role
 * may not use the page is told so (the API would refuse every call with 403). Above the page, the staff bar.
 */
export function StaffGate({ roles, children }: { roles: readonly StaffRole[]; children: ReactNode }) {
  const session = useStaffSession();
  const { s } = useStaffText();
  useEffect(() => {
    if (!session)
      navigate(`/staff/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, {
        replace: true,
      });
  }, [session]);
  if (!session) return <Loading />;
  if (!roles.includes(session.role)) {
    return (
      <Page title={s.forbidden.title}>
        <StaffBar />
        <p>{s.forbidden.text(s.roles[session.role])}</p>
        <button type="button" onClick={signOutStaff}>
          {s.forbidden.other}
        </button>
      </Page>
    );
  }
  return (
    <>
      <StaffBar />
      {children}
    </>
  );
}

/** Who is signed in, the consoles their role opens, sign-out. */
export function StaffBar() {
  const session = useStaffSession();
  const { s } = useStaffText();
  if (!session) return null;
  return (
    <nav className="staff-bar" aria-label={s.bar.label}>
      <ul>
        {REVIEWER_ROLES.includes(session.role) ? (
          <li>
            <Link to="/inspector">{s.bar.queue}</Link>
          </li>
        ) : null}
        {SUPERVISOR_ROLES.includes(session.role) ? (
          <li>
            <Link to="/staff/supervisor">{s.bar.supervisor}</Link>
          </li>
        ) : null}
        {SUPERVISOR_ROLES.includes(session.role) ? (
          <li>
            <Link to="/staff/appeals">{s.bar.appeals}</Link>
          </li>
        ) : null}
        {OPERATOR_ROLES.includes(session.role) ? (
          <li>
            <Link to="/ops">{s.bar.ops}</Link>
          </li>
        ) : null}
        {ADMIN_ROLES.includes(session.role) ? (
          <li>
            <Link to="/staff/admin">{s.bar.admin}</Link>
          </li>
        ) : null}
        <li>
          <Link to="/staff/account">{s.bar.account}</Link>
        </li>
      </ul>
      <p className="staff-who" data-testid="staff-who">
        {s.bar.signedInAs(session.login, s.roles[session.role])}
      </p>
      <button type="button" className="link" onClick={signOutStaff}>
        {s.bar.signOut}
      </button>
    </nav>
  );
}
