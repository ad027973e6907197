import { StaffError, useStaffText } from '../i18n';
import type { FileState } from '../media';

/** An evidence file on its way: a progress bar while it downloads, the error if it could not be fetched. */
export function Progress({ file }: { file: FileState }) {
  const { s } = useStaffText();
  if (file.state === 'failed') return <StaffError error={file.error} />;
  if (file.state !== 'loading') return null;
  return (
    <div className="file-loading">
      <p role="status">{s.evidence.loading}</p>
      {file.fraction !== null ? (
        <progress max={1} value={file.fraction} aria-label={s.evidence.loading} />
      ) : null}
    </div>
  );
}
