-- Payouts with their idempotency in the database: one row per reward, claimed under a lease by the payout sweep,
-- paid outside any transaction, its outcome recorded under the same lease. A restart or a second process finds
-- the row and its key, so the provider is never asked to pay a reward under a new key.
create table payouts (
  report_id uuid primary key references reports (id),
  citizen_id uuid not null references citizens (id),
  amount_sum bigint not null check (amount_sum > 0),
  -- Sent as Idempotency-Key on every attempt; the provider answers a known key with the payment it already made.
  idempotency_key text not null unique,
  status text not null default 'pending'
    check (status in ('pending', 'accepted', 'settled', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- Who is calling the provider for this payout, and until when; a lapsed lease may be claimed again.
  lease_token uuid,
  lease_expires_at timestamptz,
  reference text,
  last_error text,
  created_at timestamptz not null default now(),
  accepted_at timestamptz,
  settled_at timestamptz
);
-- What the payout sweep claims: due, unleased or with a lapsed lease.
create index payouts_due on payouts (next_attempt_at) where status = 'pending';
-- The provider's callbacks name the payment by its reference.
create unique index payouts_reference on payouts (reference) where reference is not null;

-- The local payout simulator's side: what it "paid", by idempotency key, so its references survive a restart.
create table payout_simulator_payments (
  idempotency_key text primary key,
  reference text not null unique,
  recipient text not null,
  amount_sum bigint not null,
  created_at timestamptz not null default now()
);
