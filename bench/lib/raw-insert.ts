import pg from 'pg';

/**
 * The physical limit of durable intake here: single-row INSERTs, each its own commit (fsync'd WAL flush), from
 * `connections` clients in parallel for `seconds`.
 */
export async function rawInsertCommitsPerSecond(url: string, connections = 10, seconds = 5): Promise<number> {
  const setup = new pg.Client(url);
  await setup.connect();
  await setup.query(
    'create table if not exists bench_raw (id bigint generated always as identity primary key, body text not null, at timestamptz not null default now())',
  );
  await setup.query('truncate bench_raw');
  await setup.end();
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new pg.Client(url);
      await c.connect();
      return c;
    }),
  );
  let commits = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < deadline) {
        await c.query('insert into bench_raw (body) values ($1)', [
          'a report-sized row of text, about one hundred bytes long, to resemble the real thing',
        ]);
        commits++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  return commits / seconds;
}
