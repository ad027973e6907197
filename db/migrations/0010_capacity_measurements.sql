-- Which stage each live worker serves, so an autoscaler can share a stage's total need among the processes
-- running it.
alter table worker_heartbeats add column stage text;

-- What this installation has measured about itself, kept across restarts for `jarima capacity` and for the
-- autoscaler's cold start: `service_seconds:<stage>` (worker time per item, an exponentially weighted mean),
-- `cpu_seconds_per_report` (CPU of a process running the whole path, per report). One row per name.
create table capacity_measurements (
  name text primary key,
  value double precision not null check (value >= 0),
  samples bigint not null default 0,
  updated_at timestamptz not null default now()
);
