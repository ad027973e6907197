-- The automated stages between intake and review: dedupe, enrich, analyze.

-- Waiting rooms of the stage sweeps (claimReports): one partial index for all of them, as small as the backlog.
drop index reports_waiting;
create index reports_waiting on reports (status, id) where status in ('received', 'validated', 'deduplicated', 'enriched');

alter table reports
  add column duplicate_of uuid,
  add column plate_region_code text,
  add column fine_bhm_min numeric(8, 4),
  add column fine_bhm_max numeric(8, 4),
  add column bhm_rate bigint,
  add column fine_sum_min bigint,
  add column fine_sum_max bigint,
  add column sla_due_at timestamptz,
  add column reporter_trust real,
  add column findings jsonb not null default '[]',
  add column priority int;

-- Dedupe: the same plate and violation close in time ("plate and time").
create index reports_plate_time on reports (plate, violation_code, incident_at);

-- What the analyze stage learns about each evidence file, once per distinct content.
alter table evidence
  add column analyzed_at timestamptz,
  add column sharpness real,         -- variance of the Laplacian of a 512 px greyscale rendering; low = blurry
  add column brightness real,        -- mean luma 0–255; low = dark
  add column phash text,             -- 64-bit perceptual hash as a 0/1 string (sharp-phash)
  add column thumb_sha256 text,      -- 320 px JPEG thumbnail in the blob store
  add column poster_sha256 text;     -- a video's poster frame (JPEG) in the blob store

-- Near-identical image search and time-window queries.
create index reports_incident_at on reports (incident_at);
