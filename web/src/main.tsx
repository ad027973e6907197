import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { api } from './api/client';
import { getSession } from './api/session';
import { App } from './app/App';
import { LiveProvider } from './app/live';
import { prefetchPage } from './app/prefetch';
import { setWarmer } from './app/router';
import { I18nProvider, type Lang } from './i18n';
import './styles.css';

/** A signed-in citizen's SMS and e-mails follow the language they chose here. */
function rememberLanguage(language: Lang) {
  if (getSession())
    api('/v1/me/notification-settings', { method: 'PUT', body: { language } }).catch(() => {});
}

/**
 * Past this, the app's frame renders without the page's code (a loading note until it comes): on a slow network the
 * citizen sees the header and the navigation rather than a blank tab.
 */
const PAGE_CODE_WAIT_MS = 400;

// The page's code and data are asked for first. React renders once the page's code is there (a split-off page is
// then drawn at once, without a Suspense fallback and React's reveal delay: app/preload.ts); the data keeps coming.
const pageCode = prefetchPage(location.pathname, new URLSearchParams(location.search));
// Later pages the same way: code when a link is pointed at, code and reads when the page is opened.
setWarmer((path, search, reads) => void prefetchPage(path, search, reads));
const render = () =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <I18nProvider onChange={rememberLanguage}>
        <LiveProvider>
          <App />
        </LiveProvider>
      </I18nProvider>
    </StrictMode>,
  );
let rendered = false;
const renderOnce = () => {
  if (!rendered) {
    rendered = true;
    render();
  }
};
void pageCode.then(renderOnce);
setTimeout(renderOnce, PAGE_CODE_WAIT_MS);
