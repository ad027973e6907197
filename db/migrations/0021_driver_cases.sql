-- The driver's view of a fined case: looked up by plate and ruling number, evidence served with regions blurred.

-- The registry's ruling (postanovlenie) number, from its fine.issued callback. Null for cases fined before the
-- registry sent one: those cannot be looked up. Unique, so a lookup is one index probe that finds one case.
alter table reports add column ruling_number text;
create unique index reports_ruling_number on reports (ruling_number) where ruling_number is not null;

-- E-jarimaball penalty points each violation type carries, in force from a date like BHM rates: a ruling carries
-- the points in force on its incident date. Not a foreign key to violation_types: the seed below is written before
-- `jarima migrate` loads the violation types.
create table penalty_points (
  violation_code text not null,
  effective_from date not null,        -- Asia/Tashkent calendar date
  points smallint not null check (points between 0 and 100),
  source text,
  primary key (violation_code, effective_from)
);

-- Regions of one evidence file in one report that inspectors mark to blur before a driver sees it (bystanders'
-- faces, other cars' plates). Normalised to the picture, 0..1, so they hold for any decoded size. The set is
-- replaced as a whole; a driver's copy is keyed by a hash of the set it was made from.
create table evidence_redactions (
  report_id uuid not null,
  evidence_id uuid not null,
  position smallint not null,
  x real not null check (x >= 0 and x < 1),
  y real not null check (y >= 0 and y < 1),
  w real not null check (w > 0 and x + w <= 1.0001),
  h real not null check (h > 0 and y + h <= 1.0001),
  marked_by uuid not null references staff (id),
  marked_at timestamptz not null default now(),
  primary key (report_id, evidence_id, position),
  foreign key (report_id, evidence_id) references report_evidence (report_id, evidence_id)
);

-- Drivers' copies (metadata stripped, regions blurred), derived once per source and redaction set and kept in the
-- content-addressed blob store under `blob_sha256`; a new redaction set makes a new row, so a copy is never stale.
create table driver_copies (
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  redaction_key text not null,         -- '' with nothing to blur, else a hash of the regions
  blob_sha256 text not null check (blob_sha256 ~ '^[0-9a-f]{64}$'),
  mime text not null,
  bytes bigint not null check (bytes > 0),
  created_at timestamptz not null default now(),
  primary key (sha256, redaction_key)
);

-- Seed: points for the violation types citizens may report. No official E-jarimaball table is in the repository's
-- reference data; these are defaults for administrators to correct, not figures checked against the law.
insert into penalty_points (violation_code, effective_from, points, source)
select code, date '2024-10-01', points, 'default, unverified: no official E-jarimaball table in data/'
from (values
  ('125.1', 1), ('125.2', 1), ('125.3', 2), ('125.4', 2), ('125.5', 3), ('125.6', 4), ('125.7', 1),
  ('128.1', 2), ('128-1.1', 3), ('128-3.1', 1), ('128-3.2', 2), ('128-3.3', 4), ('128-3.4', 6),
  ('128-4.1', 1), ('128-4.2', 3), ('128-5.1', 3), ('128-5.2', 5), ('128-6.1', 1), ('128-7.1', 1),
  ('128-7.2', 2), ('128-9.1', 3), ('128-10.1', 8), ('128-10.2', 10), ('129.1', 4), ('130.1', 4),
  ('135.1', 1), ('135.2', 4), ('135.3', 10)
) as seed (code, points);
