-- The loop closes: forwarding to the fines registry, its signed callbacks, notifications and the rewards ledger.

alter table reports
  add column case_number text,
  add column fine_amount_sum bigint,
  add column fined_at timestamptz,
  add column paid_at timestamptz,
  add column reward_sum bigint,
  add column rewarded_at timestamptz;

-- Approved reports waiting to be forwarded, oldest deadline first (the forward sweep).
create index reports_to_forward on reports (forward_due_at, id) where status = 'approved';
-- Paid reports whose reward is still to be paid out (the payout sweep).
create index reports_to_reward on reports (paid_at, id) where status = 'paid';

-- Registry callbacks seen, by their event id: a redelivery changes nothing.
create table gov_events (
  event_id uuid primary key,
  report_id uuid not null references reports (id),
  type text not null,
  payload jsonb not null,
  applied boolean not null,        -- false: recorded only (it arrived after a later state, e.g. issued after paid)
  received_at timestamptz not null default now()
);

-- How each citizen wants to hear from us. In-app (the live stream) is always on.
alter table citizens
  add column notify_sms boolean not null default true,
  add column notify_email boolean not null default false,
  add column email_enc bytea;          -- AES-256-GCM, like the phone

-- One row per report, citizen-visible event and channel: the unique key makes "exactly once" a constraint.
create table notifications (
  id bigint generated always as identity primary key,
  report_id uuid not null references reports (id),
  citizen_id uuid not null references citizens (id),
  event text not null check (event in ('accepted', 'rejected', 'duplicate', 'needs_info', 'approved', 'forwarded',
                                       'fined', 'paid', 'rewarded')),
  channel text not null check (channel in ('sms', 'email', 'inapp')),
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  provider_id text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  unique (report_id, event, channel)
);
-- What the notify sweep picks up.
create index notifications_due on notifications (next_attempt_at, id) where status = 'pending';
-- A citizen's in-app feed (SSE replay after a reconnect).
create index notifications_citizen on notifications (citizen_id, id) where channel = 'inapp';

-- Double-entry rewards ledger. Each transaction's entries sum to zero (checked at commit); a transaction is unique
-- per (kind, report), so a reward can be accrued once and paid out once per report — by construction.
create table ledger_transactions (
  id uuid primary key,
  kind text not null check (kind in ('reward_accrual', 'payout')),
  report_id uuid not null references reports (id),
  citizen_id uuid not null references citizens (id),
  amount_sum bigint not null check (amount_sum > 0),
  reference text,                    -- the payout provider's reference
  created_at timestamptz not null default now(),
  unique (kind, report_id)
);
create index ledger_transactions_citizen on ledger_transactions (citizen_id, created_at);

create table ledger_entries (
  id bigint generated always as identity primary key,
  transaction_id uuid not null references ledger_transactions (id),
  account text not null,             -- 'expense:rewards', 'liability:citizen:<uuid>', 'asset:payouts'
  amount_sum bigint not null check (amount_sum <> 0)   -- debit > 0, credit < 0
);
create index ledger_entries_account on ledger_entries (account);
create index ledger_entries_transaction on ledger_entries (transaction_id);

create function ledger_balanced() returns trigger language plpgsql as $$
begin
  if (select coalesce(sum(amount_sum), 0) from ledger_entries where transaction_id = new.transaction_id) <> 0 then
    raise exception 'ledger transaction % does not balance', new.transaction_id;
  end if;
  return null;
end $$;
create constraint trigger ledger_entries_balanced after insert on ledger_entries
  deferrable initially deferred for each row execute function ledger_balanced();

create function ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the ledger is append-only';
end $$;
create trigger ledger_entries_no_update before update or delete on ledger_entries
  for each row execute function ledger_append_only();
create trigger ledger_transactions_no_update before update or delete on ledger_transactions
  for each row execute function ledger_append_only();
