-- Statistics roll-ups, maintained inside the transition transactions (src/stats/rollup.ts): per hour × region ×
-- district × violation type. Public statistics read these small rows, never the reports table. 0 = not known
-- (a report rejected before its place was resolved).
create table stats_hourly (
  hour timestamptz not null,
  region_id int not null,
  district_id int not null,
  violation_code text not null,
  submitted int not null default 0,   -- left the automated checks (any outcome), counted at its submission hour
  approved int not null default 0,
  rejected int not null default 0,
  duplicate int not null default 0,
  fined int not null default 0,
  paid int not null default 0,
  fined_sum bigint not null default 0,
  paid_sum bigint not null default 0,
  primary key (hour, region_id, district_id, violation_code)
);
-- By place over a range (by-district, map shading).
create index stats_hourly_district on stats_hourly (district_id, hour);
