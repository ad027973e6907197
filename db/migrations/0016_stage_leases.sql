-- A lease a stage takes on a report while it works on it outside any transaction (a registry call, media analysis):
-- the claim commits at once with the lease, the slow work holds no row lock and no connection, and the outcome is
-- recorded by a second transaction only while the lease is still the claimer's. A lease whose holder died lapses at
-- `stage_lease_expires_at` and the report can be claimed again. It means something only in the state it was taken
-- in (claims always filter by state), and recording clears it.
alter table reports
  add column stage_lease_owner uuid,
  add column stage_lease_expires_at timestamptz;

-- Live leases by state and expiry: when the next lapsed lease is due (the sweeps schedule a look then).
create index reports_stage_leases on reports (status, stage_lease_expires_at) where stage_lease_owner is not null;
