import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { api } from './api/client';
import { getSession } from './api/session';
import { App } from './app/App';
import { LiveProvider } from './app/live';
import { prefetchPage } from './app/prefetch';
import { I18nProvider, type Lang } from './i18n';
import './styles.css';

/** A signed-in citizen's SMS and e-mails follow the language they chose here. */
function rememberLanguage(language: Lang) {
  if (getSession())
    api('/v1/me/notification-settings', { method: 'PUT', body: { language } }).catch(() => {});
}

// The page's code and data are asked for first; React renders while they arrive.
prefetchPage(location.pathname, new URLSearchParams(location.search));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider onChange={rememberLanguage}>
      <LiveProvider>
        <App />
      </LiveProvider>
    </I18nProvider>
  </StrictMode>,
);
