-- A driver's appeal against a ruling, the supervisors' decision on it, and that decision's delivery to the registry
-- (src/appeals). One appeal per ruling: a decision here is final, the court is the next step.

-- Files a driver uploaded for one case (no account: the case is the owner), like evidence_uploads for citizens.
-- Kept while the case is: evidence clean-up leaves evidence named here alone (src/evidence/cleanup.ts).
create table case_uploads (
  report_id uuid not null references reports (id),
  evidence_id uuid not null references evidence (id),
  original_name text,
  uploaded_at timestamptz not null default now(),
  primary key (report_id, evidence_id)
);
create index case_uploads_report_time on case_uploads (report_id, uploaded_at);

-- One-time codes that confirm the appeal's contact phone; only their HMAC is kept (as otp_codes).
create table appeal_phone_codes (
  id bigint generated always as identity primary key,
  report_id uuid not null references reports (id),
  phone_hash bytea not null,
  code_hash bytea not null,
  attempts int not null default 0,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz
);
create index appeal_phone_codes_report on appeal_phone_codes (report_id, created_at);

create table appeals (
  id uuid primary key,
  report_id uuid not null unique references reports (id),
  text text not null check (char_length(text) between 1 and 4000),
  -- The driver's contact: encrypted to send the decision by SMS, hashed to tell numbers apart without reading them.
  contact_phone_enc bytea not null,
  contact_phone_hash bytea not null,
  phone_confirmed_at timestamptz not null,
  -- The language the driver filed in: the decision's SMS is written in it.
  lang text not null default 'uz' check (lang in ('uz', 'ru', 'en')),
  status text not null default 'filed' check (status in ('filed', 'in_review', 'decided')),
  -- The unit of the report, copied at filing, so the queue is scoped like the review queue.
  unit_id int references units (id) on delete set null,
  lease_owner uuid references staff (id),
  lease_expires_at timestamptz,
  filed_at timestamptz not null default now(),
  sla_due_at timestamptz not null,
  decision text check (decision in ('uphold', 'cancel', 'correct')),
  corrected_violation_code text references violation_types (code),
  reason_code text,
  note text,
  decided_by uuid references staff (id),
  decided_at timestamptz,
  -- Delivery of the decision to the registry: claimed under a lease, called outside any transaction, recorded under
  -- the lease (src/appeals/appeal-sweep.ts).
  registry_sent_at timestamptz,
  registry_attempts int not null default 0,
  registry_next_attempt_at timestamptz,
  registry_lease_token uuid,
  registry_lease_expires_at timestamptz,
  registry_error text,
  -- The driver's SMS with the decision, after the registry recorded it.
  driver_notified_at timestamptz,
  check ((status = 'decided') = (decision is not null)),
  check ((decision = 'correct') = (corrected_violation_code is not null))
);
-- The supervisors' queue: open appeals by deadline.
create index appeals_open on appeals (sla_due_at, id) where status <> 'decided';
-- The sender's claim: decided, not yet delivered.
create index appeals_unsent on appeals (registry_next_attempt_at) where status = 'decided' and registry_sent_at is null;

create table appeal_attachments (
  appeal_id uuid not null references appeals (id),
  position smallint not null,
  evidence_id uuid not null references evidence (id),
  primary key (appeal_id, position),
  unique (appeal_id, evidence_id)
);

-- A cancelled fine reverses the reward accrued for it while it is unpaid (src/appeals/appeal-effects.ts).
alter table ledger_transactions drop constraint ledger_transactions_kind_check;
alter table ledger_transactions
  add constraint ledger_transactions_kind_check check (kind in ('reward_accrual', 'payout', 'reward_reversal'));

-- The citizen is told when their report is overturned on appeal.
alter table notifications drop constraint notifications_event_check;
alter table notifications add constraint notifications_event_check
  check (event in ('accepted', 'rejected', 'duplicate', 'needs_info', 'approved', 'forwarded', 'fined', 'paid',
                   'rewarded', 'overturned'));
