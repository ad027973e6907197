-- Inspector review: leases on claimed reports, decisions, and an audit of every evidence view.

alter table reports
  add column lease_owner uuid references staff (id),
  add column lease_expires_at timestamptz,
  add column reviewed_by uuid references staff (id),
  add column decided_at timestamptz,
  add column review_decision text check (review_decision in ('approve', 'reject', 'needs_info')),
  add column review_note text,
  add column approved_at timestamptz,
  add column forward_due_at timestamptz,   -- approved_at + FORWARD_DEADLINE_HOURS: the SLA for reaching the registry
  add column forwarded_at timestamptz;

-- The review queue (GET /v1/review/queue, POST /v1/review/next): open reports, highest priority first, then the
-- nearest deadline; partial, so it holds only what waits for a person.
create index reports_review_queue on reports ((coalesce(priority, 0)) desc, (coalesce(sla_due_at, 'infinity')), id)
  where status in ('awaiting_review', 'in_review');

-- A supervisor's workload view: who holds what.
create index reports_lease_owner on reports (lease_owner) where status = 'in_review';

-- Decisions of the last day per inspector (workload).
create index reports_decided on reports (reviewed_by, decided_at) where decided_at is not null;

-- Approved and not yet at the registry: the forwarding SLA.
create index reports_forward_due on reports (forward_due_at) where status = 'approved';

-- Every time staff open a piece of evidence: who, which report, which file and rendering, when, from where.
create table evidence_views (
  id bigint generated always as identity primary key,
  staff_id uuid not null references staff (id),
  report_id uuid not null references reports (id),
  evidence_id uuid not null references evidence (id),
  variant text not null check (variant in ('original', 'thumbnail', 'poster')),
  ip text,
  at timestamptz not null default now()
);
create index evidence_views_report on evidence_views (report_id, at);
create index evidence_views_staff on evidence_views (staff_id, at);

create function evidence_views_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'evidence_views is append-only';
end $$;
create trigger evidence_views_no_update before update or delete on evidence_views
  for each row execute function evidence_views_append_only();
