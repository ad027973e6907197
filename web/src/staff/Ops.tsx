import { Page } from '../app/common';
import { useI18n } from '../i18n';

/** Placeholder for the operator dashboard (live metrics, dead letters): /ops/*. */
export default function Ops() {
  const { t } = useI18n();
  return (
    <Page title={t.staff.opsTitle}>
      <p>{t.staff.soon}</p>
      <p>
        <a href="/docs">{t.app.apiDocs}</a>
      </p>
    </Page>
  );
}
