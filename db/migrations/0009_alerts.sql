-- Alert history (src/ops/alerts): one row each time an alert instance (a rule and one label set) starts firing
-- or resolves. Append-only; reminders of a still-firing alert are not transitions and are not written.
create table alert_events (
  id bigint generated always as identity primary key,
  rule text not null,
  labels jsonb not null default '{}',
  severity text not null check (severity in ('critical', 'warning', 'info')),
  state text not null check (state in ('firing', 'resolved')),
  value double precision,   -- null: the expression had no value (the series went away, or a ratio with no traffic)
  summary text not null,
  at timestamptz not null default now()
);

-- The history list pages newest first by id (keyset: id < $before), which the primary key serves; filtered by
-- rule it reads this one (listAlertHistory; EXPLAIN test in src/ops/alerts/alerts.test.ts).
create index alert_events_rule on alert_events (rule, id desc);
-- Time-range reads and pruning old history ("delete … where at < now() - interval '90 days'").
create index alert_events_at on alert_events (at desc);
