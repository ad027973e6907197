-- Staff accounts an agency runs: police units over districts, revocable sessions (staff and citizens), two-factor
-- sign-in, set-password links, sign-in throttling, and the append-only audit of staff actions.

-- A police unit reviews the reports of the districts it covers; a district belongs to at most one unit.
create table units (
  id int generated always as identity primary key,
  name text not null unique,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create table unit_districts (
  district_id int primary key references districts (id) on delete cascade,
  unit_id int not null references units (id) on delete cascade
);
create index unit_districts_unit on unit_districts (unit_id);

-- A new account has no password until its set-password link is used.
alter table staff
  alter column password_hash drop not null,
  add column unit_id int references units (id) on delete set null,
  add column updated_at timestamptz not null default now(),
  add column password_changed_at timestamptz,
  add column last_sign_in_at timestamptz,
  add column totp_secret_enc bytea,            -- AES-256-GCM, like phone numbers
  add column totp_enrolled_at timestamptz,
  add column totp_last_step bigint;            -- the last RFC 6238 time step accepted: a code is good once
create index staff_unit on staff (unit_id);

-- Ten single-use recovery codes per enrolment, stored as SHA-256 of the code.
create table staff_recovery_codes (
  staff_id uuid not null references staff (id) on delete cascade,
  code_hash bytea not null,
  used_at timestamptz,
  primary key (staff_id, code_hash)
);

-- One-time set-password links (new account or reset): SHA-256 of the token, expiring, single use.
create table password_links (
  token_hash bytea primary key,
  staff_id uuid not null references staff (id) on delete cascade,
  purpose text not null check (purpose in ('set', 'reset', 'bootstrap')),
  created_by uuid references staff (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index password_links_staff on password_links (staff_id);

-- Failed sign-ins per login, whether or not the login exists, so an unknown login and a wrong password are answered
-- alike: the progressive delay and the lock-out.
create table sign_in_failures (
  login text primary key,
  failures int not null default 0,
  last_failed_at timestamptz not null default now(),
  locked_until timestamptz
);

-- A signed-in session (a refresh-token family): access tokens name it, and a revoked one admits nothing more.
create table auth_sessions (
  id uuid primary key,
  subject_id uuid not null,                    -- a staff member's or a citizen's id
  role text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  expires_at timestamptz not null,             -- absolute end: refreshing never extends it
  ip text,
  user_agent text,
  revoked_at timestamptz,
  revoked_reason text
);
create index auth_sessions_subject on auth_sessions (subject_id, created_at desc);

-- Refresh tokens, SHA-256 only, rotated on every use: a used one presented again revokes its whole session.
create table refresh_tokens (
  token_hash bytea primary key,
  session_id uuid not null references auth_sessions (id) on delete cascade,
  issued_at timestamptz not null default now(),
  used_at timestamptz
);
create index refresh_tokens_session on refresh_tokens (session_id);

-- Every staff action: who, what, on what, when, from where. Append-only.
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_id uuid,                               -- the staff member; null for a sign-in with an unknown login
  actor_login text,
  action text not null,
  outcome text not null default 'ok' check (outcome in ('ok', 'denied', 'failed')),
  target_kind text,
  target_id text,
  detail jsonb not null default '{}',
  ip text,
  user_agent text
);
create index audit_log_at on audit_log (at desc, id desc);
create index audit_log_actor on audit_log (actor_id, at desc);
create index audit_log_target on audit_log (target_kind, target_id, at desc);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();

-- Reports are routed to the unit of their district; the review deadline runs from when a report became reviewable.
alter table reports
  add column unit_id int references units (id) on delete set null,
  add column reviewable_at timestamptz,
  add column review_due_at timestamptz;
create index reports_unit_queue on reports (unit_id, (coalesce(priority, 0)) desc, (coalesce(sla_due_at, 'infinity')), id)
  where status in ('awaiting_review', 'in_review');

-- Deadlines: the escalation raises open reports near the earlier of the two; the breach gauges count reports past
-- the legal one that have not reached the registry.
create index reports_review_due on reports ((least(review_due_at, sla_due_at)))
  where status in ('awaiting_review', 'in_review');
create index reports_legal_due on reports (sla_due_at)
  where status in ('received', 'validated', 'deduplicated', 'enriched', 'awaiting_review', 'in_review', 'needs_info',
    'approved', 'failed');
