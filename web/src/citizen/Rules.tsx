import { Page } from '../app/common';
import { useI18n } from '../i18n';

export const RULES_READ_KEY = 'jarima.rulesRead';

export function RulesList() {
  const { t } = useI18n();
  return (
    <>
      <p>{t.rules.lead}</p>
      <ul className="rules">
        {t.rules.items.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
    </>
  );
}

export function Rules() {
  const { t } = useI18n();
  return (
    <Page title={t.rules.title}>
      <RulesList />
    </Page>
  );
}
