import { Page } from '../app/common';
import { useI18n } from '../i18n';

/** Placeholder for the inspector console (review queue, review screen): /inspector/*. */
export default function Inspector() {
  const { t } = useI18n();
  return (
    <Page title={t.staff.inspectorTitle}>
      <p>{t.staff.soon}</p>
      <p>
        <a href="/docs">{t.app.apiDocs}</a>
      </p>
    </Page>
  );
}
