-- The near-identical search (analyze stage): Hamming distances between perceptual hashes computed inside PostgreSQL
-- (bit_count of the XOR) so only matches come back, over the reports filed near the same place and time found
-- through a GiST index on (place, time). Shipping every nearby hash to Node cost 4.3 ms of database time per report
-- and most of the stage's JavaScript (bench/README.md, "pipeline").
alter table evidence add column phash_bits bit(64) generated always as (phash::bit(64)) stored;

create extension if not exists btree_gist;
create index reports_place_time on reports using gist (point(lon, lat), incident_at);
