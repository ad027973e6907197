-- A pipeline stage's sweep may stay "on duty" for a moment after its queue empties, claiming new arrivals as they
-- come instead of each hand-off enqueueing a sweep job of its own (src/pipeline/duty.ts). Two advisory locks per
-- stage (key space 4870733, keys 2·slot and 2·slot + 1):
--   duty (2·slot):   held exclusively, for its session, by the sweep on duty;
--   stop (2·slot+1): taken exclusively by that sweep when it goes off duty, before its last claim.
-- A transaction handing reports to the stage calls this before deciding whether to enqueue a sweep job: it first
-- takes the stop lock shared until it ends (so a sweep going off duty waits for it to commit before its last claim,
-- and sees its reports), then tries the duty lock shared: false means a sweep is on duty and will claim this
-- transaction's reports, so no job is needed; true means none is, and the caller enqueues one as before.
create function pipeline_handoff_free(stage_slot int) returns boolean
language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock_shared(4870733, 2 * stage_slot + 1);
  return pg_try_advisory_xact_lock_shared(4870733, 2 * stage_slot);
end
$$;
