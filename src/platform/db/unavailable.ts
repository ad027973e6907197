/**
 * True for errors that mean "the database is down or restarting", which a client should retry (503), as opposed
 * to a bug (500): PostgreSQL connection-exception (08xxx) and operator-intervention shutdown (57P0x) codes, socket
 * errors, and node-postgres's own messages for a connection that ended or could not be made.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; syscall?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string') {
    if (e.code.startsWith('08') || e.code.startsWith('57P')) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code)) return true;
    // A Unix socket whose server is gone: its file is removed, so connecting finds no such file.
    if (e.code === 'ENOENT' && e.syscall === 'connect') return true;
  }
  return (
    typeof e.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/.test(e.message)
  );
}
