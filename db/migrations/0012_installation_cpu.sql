-- CPU per report for `jarima capacity` is now measured from this installation's own processes (the server and, when
-- it runs on the same machine, PostgreSQL) instead of the whole machine's CPU: sums taken the old way would mix in
-- whatever else ran on the machine, so they start again.
delete from capacity_measurements where name like 'cpu\_busy:%' or name like 'cpu\_idle:%';
