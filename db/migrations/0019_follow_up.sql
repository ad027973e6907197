-- The citizen's follow-up (src/reports/follow-up.expiry.ts): reports waiting for an answer, oldest question first.
create index reports_needs_info on reports (decided_at) where status = 'needs_info';
