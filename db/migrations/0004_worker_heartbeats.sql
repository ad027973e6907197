-- Live pipeline workers: each process refreshes its workers' rows every few seconds. A worker whose row has gone
-- stale (its process was killed) has its locked jobs unlocked by the others (graphile-worker force_unlock_workers).
create table worker_heartbeats (
  worker_id text primary key,
  host text not null,
  pid int not null,
  seen_at timestamptz not null default now()
);
