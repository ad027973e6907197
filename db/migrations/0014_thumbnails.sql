-- Evidence thumbnails (320 px JPEG, ~10 kB, derived from the evidence and keyed by their own hash) are kept here,
-- written by the statement that records the picture's measures: durable with that commit, where a file of its own
-- cost a write, a rename and two fsyncs (~2–3 ms of CPU per photo upload, bench/README.md "pipeline"). Thumbnails
-- that earlier versions wrote to the blob store stay there and are still served from it.
create table thumbnails (
  sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  jpeg bytea not null
);
