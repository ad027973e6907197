import { Page } from '../app/common';
import { matchPath, useLocation } from '../app/router';
import { useStaffText } from './i18n';
import { Queue } from './inspector/Queue';
import { Review } from './inspector/Review';
import { StaffGate } from './StaffFrame';
import { REVIEWER_ROLES } from './session';

/** The inspector console: /inspector (the queue) and /inspector/review/:id (one report). */
export default function Inspector() {
  const { path } = useLocation();
  const { s } = useStaffText();
  const review = matchPath('/inspector/review/:id', path);
  return (
    <StaffGate roles={REVIEWER_ROLES}>
      {review ? (
        <Review key={review.id} id={review.id!} />
      ) : matchPath('/inspector', path) ? (
        <Queue />
      ) : (
        <Page title={s.notFound}>
          <p>{s.notFound}</p>
        </Page>
      )}
    </StaffGate>
  );
}
