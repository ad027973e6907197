-- Evidence quotas and clean-up (src/evidence/evidence.repository.ts dailyQuota, src/evidence/cleanup.ts).

-- A citizen's uploads of the last 24 hours: the daily quota reads them on every upload.
create index evidence_uploads_citizen_time on evidence_uploads (citizen_id, uploaded_at);

-- How far each periodic sweep has looked (evidence clean-up: the evidence ids up to here were examined once).
create table sweep_marks (
  name text primary key,
  upto timestamptz not null
);
