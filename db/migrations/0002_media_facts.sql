-- What each evidence file really is, read once from its content at upload (evidence is content-addressed).
alter table evidence
  add column readable boolean not null default true,
  add column problem text,
  add column width int,
  add column height int,
  add column duration_ms int,
  add column codec text,
  add column taken_at timestamptz,
  add column gps_lat double precision,
  add column gps_lon double precision,
  add column camera text;
