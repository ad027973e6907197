import { type ReactNode, Suspense, useEffect, useRef } from 'react';
import { Home } from '../citizen/Home';
import { MyReports } from '../citizen/MyReports';
import { ReportPage } from '../citizen/ReportPage';
import { RewardsPage } from '../citizen/Rewards';
import { Rules } from '../citizen/Rules';
import { SignIn } from '../citizen/SignIn';
import { useI18n } from '../i18n';
import { Loading, Page } from './common';
import { Layout } from './Layout';
import { PAGES } from './prefetch';
import { matchPath, navigate, useLocation } from './router';
import { useSession } from './session';

// Split off what the first page of a citizen does not need: the report form with its map, the public statistics,
// and the staff consoles.
// The page being opened has its chunk requested before React renders (main.tsx, app/prefetch.ts).
const NewReport = PAGES.newReport.Component;
const Stats = PAGES.stats.Component;
const Inspector = PAGES.inspector.Component;
const Ops = PAGES.ops.Component;
const StaffSignIn = PAGES.staffSignIn.Component;
const SetPassword = PAGES.setPassword.Component;
const Account = PAGES.account.Component;
const Admin = PAGES.admin.Component;
const Supervisor = PAGES.supervisor.Component;
const Fine = PAGES.fine.Component;
const Appeals = PAGES.appeals.Component;
const MyData = PAGES.myData.Component;

interface Route {
  path: string;
  /** Needs a signed-in citizen: others are sent to sign in and brought back. */
  citizen?: boolean;
  render(params: Record<string, string>): ReactNode;
}

const ROUTES: Route[] = [
  { path: '/', render: () => <Home /> },
  { path: '/signin', render: () => <SignIn /> },
  { path: '/rules', render: () => <Rules /> },
  { path: '/report/new', citizen: true, render: () => <NewReport /> },
  { path: '/reports', citizen: true, render: () => <MyReports /> },
  { path: '/reports/:id', citizen: true, render: (p) => <ReportPage key={p.id} id={p.id!} /> },
  { path: '/rewards', citizen: true, render: () => <RewardsPage /> },
  { path: '/me/data', citizen: true, render: () => <MyData /> },
  { path: '/stats', render: () => <Stats /> },
  // The driver of a fined car: no account, the plate and the ruling number open the case.
  { path: '/fine', render: () => <Fine /> },
  // The staff consoles: their own sign-in (login and password) and session, apart from the citizen's.
  { path: '/staff/sign-in', render: () => <StaffSignIn /> },
  { path: '/staff/set-password', render: () => <SetPassword /> },
  { path: '/staff/account', render: () => <Account /> },
  { path: '/staff/admin', render: () => <Admin /> },
  { path: '/staff/supervisor', render: () => <Supervisor /> },
  { path: '/staff/appeals', render: () => <Appeals /> },
  { path: '/inspector/*', render: () => <Inspector /> },
  { path: '/ops/*', render: () => <Ops /> },
];

export function App() {
  const { path } = useLocation();
  const session = useSession();
  const first = useRef(true);

  // Moving to another page moves focus to it, so a screen reader announces the new page, not silence.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each path change
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
  }, [path]);

  let page: ReactNode = <NotFound />;
  for (const r of ROUTES) {
    const params = matchPath(r.path, path);
    if (!params) continue;
    page = r.citizen && !session ? <ToSignIn /> : r.render(params);
    break;
  }
  return (
    <Layout>
      <Suspense fallback={<Loading />}>{page}</Suspense>
    </Layout>
  );
}

function ToSignIn() {
  useEffect(() => {
    navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }, []);
  return <Loading />;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <Page title={t.app.notFound}>
      <p>{t.app.notFoundText}</p>
    </Page>
  );
}
