import { usePageTitle } from '../app/common';
import { Link } from '../app/router';
import { useI18n } from '../i18n';

export function Home() {
  const { t } = useI18n();
  usePageTitle('');
  return (
    <div className="page home">
      <section className="hero">
        <h1>{t.home.title}</h1>
        <p className="lead">{t.home.lead}</p>
        <p>
          <Link to="/report/new" className="button primary big">
            {t.home.cta}
          </Link>
        </p>
        <p>
          <Link to="/rules">{t.rules.readMore}</Link>
        </p>
      </section>
      <section>
        <h2>{t.home.howTitle}</h2>
        <ol className="steps">
          {t.home.steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
        <p>
          <Link to="/stats">{t.home.statsLink}</Link>
        </p>
      </section>
    </div>
  );
}
