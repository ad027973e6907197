import type { ReactNode } from 'react';
import { signOutOnServer } from '../api/refresh';
import { setSession } from '../api/session';
import { LANGS, type Lang, useI18n } from '../i18n';
import { forgetLiveCursor, useLive } from './live';
import { Link, navigate } from './router';
import { useSession } from './session';

/** The frame of every page: skip link, header with the menu and language, the page, the footer. */
export function Layout({ children }: { children: ReactNode }) {
  const { t, lang, setLang } = useI18n();
  const session = useSession();
  const live = useLive();
  const signOut = () => {
    void signOutOnServer(session?.token);
    setSession(null);
    forgetLiveCursor();
    navigate('/');
  };
  return (
    <>
      <a className="skip" href="#main">
        {t.app.skip}
      </a>
      <header className="top">
        <div className="top-row">
          <Link to="/" className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            {t.app.name}
          </Link>
          {session ? (
            <span
              className={`live-dot ${live.state === 'open' ? 'on' : 'off'}`}
              role="status"
              title={live.state === 'open' ? t.app.liveOn : t.app.liveOff}
              data-live={live.state}
            >
              <span className="sr-only">{live.state === 'open' ? t.app.liveOn : t.app.liveOff}</span>
            </span>
          ) : null}
          <label className="lang">
            <span className="sr-only">{t.language.label}</span>
            <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="language">
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {LANG_NAMES[l]}
                </option>
              ))}
            </select>
          </label>
        </div>
        <nav aria-label={t.nav.menu}>
          <ul>
            <li>
              <Link to="/report/new">{t.nav.newReport}</Link>
            </li>
            {session ? (
              <>
                <li>
                  <Link to="/reports">{t.nav.myReports}</Link>
                </li>
                <li>
                  <Link to="/rewards">{t.nav.rewards}</Link>
                </li>
                <li>
                  <Link to="/me/data">{t.myData.nav}</Link>
                </li>
              </>
            ) : null}
            <li>
              <Link to="/stats">{t.nav.stats}</Link>
            </li>
            <li>
              <Link to="/rules">{t.nav.rules}</Link>
            </li>
            <li>
              {session ? (
                <button type="button" className="link" onClick={signOut}>
                  {t.nav.signOut}
                </button>
              ) : (
                <Link to="/signin">{t.nav.signIn}</Link>
              )}
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="foot">
        <p>{t.app.footer}</p>
        <p>
          <a href="/docs">{t.app.apiDocs}</a>
        </p>
      </footer>
    </>
  );
}

/** Each language named in itself, whatever the interface language is. */
const LANG_NAMES: Record<Lang, string> = { uz: 'Oʻzbekcha', ru: 'Русский', en: 'English' };
