-- Resumable evidence uploads (src/evidence/resumable.routes.ts): a citizen declares the file's size, sends it in
-- chunks at the offset the server confirms, and resumes after a dropped connection from that offset. The bytes
-- received so far are in a file under JARIMA_DATA_DIR/uploads; the finished file becomes evidence like any upload.
create table upload_sessions (
  id uuid primary key,
  citizen_id uuid not null references citizens (id),
  size bigint not null check (size > 0),
  filename text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
-- The sweep of abandoned uploads.
create index upload_sessions_expires on upload_sessions (expires_at);
