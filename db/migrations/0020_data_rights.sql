-- Data rights and retention (src/privacy, docs/privacy.md): a citizen's account can be erased, and media and
-- addresses are purged on a schedule.

-- An erased citizen keeps their id (reports that led to a fine still name it) and nothing that identifies them.
alter table citizens
  alter column phone_hash drop not null,
  alter column phone_enc drop not null,
  add column erased_at timestamptz,
  add constraint citizens_phone_until_erased check (
    (erased_at is null and phone_hash is not null and phone_enc is not null)
    or (erased_at is not null and phone_hash is null and phone_enc is null and email_enc is null));

-- Media removed under the retention policy or an erasure: the row stays (the report's record names it), the bytes
-- and the facts read from them (place, time, camera) go.
alter table evidence add column purged_at timestamptz;
alter table reports add column media_purged_at timestamptz;

-- Closed reports that never led to a fine whose media are still kept: what the retention sweep looks at.
create index reports_media_to_purge on reports (updated_at)
  where status in ('rejected', 'duplicate', 'withdrawn') and media_purged_at is null;
-- OTP codes by age (the retention sweep); the per-phone index serves sign-in.
create index otp_codes_created on otp_codes (created_at);
-- Sessions whose client address is still kept, by last use (the retention sweep).
create index auth_sessions_addresses on auth_sessions (last_used_at) where ip is not null or user_agent is not null;
