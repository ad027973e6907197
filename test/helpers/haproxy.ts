import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** A free TCP port on the loopback interface (free when asked: bind it soon). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Debian's HAProxy in front of `backends` (host:port), on a free loopback port, with its configuration in `dir`;
 * `check` health-checks them on /readyz (a killed one leaves the rotation within a second). Resolves once the proxy
 * answers /healthz through a backend.
 */
export async function startHaproxy(
  dir: string,
  backends: string[],
  opts: { check?: boolean; balance?: string } = {},
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  await writeFile(
    cfg,
    [
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  option redispatch',
      '  retries 2',
      'frontend jarima',
      `  bind 127.0.0.1:${port}`,
      '  default_backend api',
      'backend api',
      `  balance ${opts.balance ?? 'roundrobin'}`,
      ...(opts.check ? ['  option httpchk GET /readyz', '  default-server inter 500ms fall 1 rise 1'] : []),
      ...backends.map((b, i) => `  server api-${i + 1} ${b}${opts.check ? ' check' : ''}`),
      '',
    ].join('\n'),
  );
  const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`HAProxy on ${url} did not answer`);
}
