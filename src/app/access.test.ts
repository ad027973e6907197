import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  signInCitizen,
  staffToken,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';
import { accessKey, CALLERS, type Caller, CONDITIONAL_ROUTES, expectedFor, ROUTE_ACCESS } from './access.js';

let t: TestApp;
let base: string;
const tokens: Partial<Record<Caller, string>> = {};
const ids = { report: '', upload: '', evidence: '', tus: '' };
const TUS = { 'tus-resumable': '1.0.0' };

/** A tus upload of the owner's (a fresh one for each DELETE, which ends it). */
async function ownersTusUpload(): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/tus',
    headers: { ...TUS, ...bearer(tokens.owner!), 'upload-length': '1000' },
  });
  expect(res.statusCode).toBe(201);
  return (res.headers.location as string).split('/').pop()!;
}

beforeAll(async () => {
  // Each DELETE of a tus upload gets a fresh one: more open uploads than a citizen's default.
  t = await createTestApp({ UPLOADS_OPEN_PER_CITIZEN: '100' });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const owner = await citizenWithEvidence(t);
  const res = await submitReport(t, owner.token, reportBody([owner.evidenceId]));
  expect(res.statusCode).toBe(202);
  const upload = await t.app.inject({
    method: 'POST',
    url: '/v1/uploads',
    headers: bearer(owner.token),
    payload: { size: 1000 },
  });
  expect(upload.statusCode).toBe(201);
  Object.assign(ids, { report: res.json().id, upload: upload.json().id, evidence: owner.evidenceId });
  tokens.owner = owner.token;
  tokens['other-citizen'] = (await signInCitizen(t)).token;
  ids.tus = await ownersTusUpload();
  for (const role of ['inspector', 'supervisor', 'admin'] as const) tokens[role] = await staffToken(t, role);
}, 60_000);

/**
 * Every `METHOD /path` the app answers, read from Fastify's own route tree: each line is a path segment under its
 * parent (four columns of indentation a level) with the methods registered there, `(-)` for none.
 */
function liveRoutes(app: TestApp['app']): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*) \(([^)]*)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of m[3]!.split(', ')) {
      if (method === '-' || method === 'HEAD') continue;
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

/** A concrete URL for a route: the owner's resources for its parameters. */
function urlFor(path: string): string {
  return path
    .replace(/^\/v1\/uploads\/:id/, `/v1/uploads/${ids.upload}`)
    .replace(/^\/v1\/tus\/:id/, `/v1/tus/${ids.tus}`)
    .replace(':evidenceId', ids.evidence)
    .replace(':id', ids.report)
    .replace(/\*$/, 'no-such-page');
}

/** Streams never end on their own: their status is read from the head over a real socket, then they are dropped. */
const STREAMS = new Set(['GET /v1/me/events']);

/** Routes that end the caller's session: called with a throwaway session of the same kind of caller. */
const SESSION_ENDING = new Set(['POST /v1/auth/sign-out']);

async function throwaway(caller: Caller): Promise<string | undefined> {
  if (caller === 'anonymous') return undefined;
  if (caller === 'owner' || caller === 'other-citizen') return (await signInCitizen(t)).token;
  return staffToken(t, caller);
}

async function call(route: string, caller: Caller): Promise<number> {
  const [method, path] = route.split(' ') as [string, string];
  const url = route === 'DELETE /v1/tus/:id' ? `/v1/tus/${await ownersTusUpload()}` : urlFor(path);
  const token = SESSION_ENDING.has(route) ? await throwaway(caller) : tokens[caller];
  const headers: Record<string, string> = token ? bearer(token) : {};
  if (STREAMS.has(route)) {
    const abort = new AbortController();
    const res = await fetch(`${base}${url}`, { method, headers, signal: abort.signal });
    abort.abort();
    return res.status;
  }
  if (path.startsWith('/v1/tus')) {
    // Speaking tus, so only who asks decides the answer (an empty chunk at offset 0 is a valid PATCH).
    Object.assign(
      headers,
      TUS,
      method === 'PATCH' ? { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } : {},
    );
    return (
      await t.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(method === 'PATCH' ? { payload: Buffer.alloc(0) } : {}),
      })
    ).statusCode;
  }
  if (method === 'PATCH' && path.startsWith('/v1/uploads/')) {
    // A chunk that passes the upload's own checks, so only who asks decides the answer.
    Object.assign(headers, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' });
    return (await t.app.inject({ method, url, headers, payload: Buffer.alloc(0) })).statusCode;
  }
  const res = await t.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(method === 'GET' ? {} : { payload: {} }),
  });
  return res.statusCode;
}

describe('the access table', () => {
  it('lists every live route, and nothing that is not one', () => {
    const live = liveRoutes(t.app);
    // The parser reads the tree Fastify prints; a route it made up would not be found.
    expect(live.length).toBeGreaterThan(50);
    // (hasRoute does not find wildcard routes; the walk below calls those.)
    for (const r of live.filter((r) => !r.endsWith('*'))) {
      const [method, url] = r.split(' ') as [string, string];
      expect(t.app.hasRoute({ method: method as 'GET', url }), r).toBe(true);
    }
    expect(live.filter((r) => !(accessKey(...(r.split(' ') as [string, string])) in ROUTE_ACCESS))).toEqual(
      [],
    );
    const absent = Object.keys(ROUTE_ACCESS).filter((k) => !live.includes(k));
    expect(absent.filter((k) => !CONDITIONAL_ROUTES.has(k))).toEqual([]);
  });

  it('has the simulator routes only because simulators run here', () => {
    expect(t.deps.smsSimulator).not.toBeNull();
    expect(t.deps.emailOutbox).not.toBeNull();
    const live = liveRoutes(t.app);
    for (const k of ['GET /v1/dev/outbox', 'GET /v1/dev/email-outbox']) expect(live).toContain(k);
    const simulatorOnly = Object.entries(ROUTE_ACCESS).filter(([, a]) => a === 'simulator-only');
    expect(simulatorOnly.map(([k]) => k).sort()).toEqual(['GET /v1/dev/email-outbox', 'GET /v1/dev/outbox']);
    for (const [k] of simulatorOnly) expect(k.startsWith('GET /v1/dev/')).toBe(true);
  });

  it('answers every route as the table says, for every kind of caller', async () => {
    const wrong: string[] = [];
    for (const route of liveRoutes(t.app)) {
      const access = ROUTE_ACCESS[accessKey(...(route.split(' ') as [string, string]))]!;
      const ownerRoute = typeof access !== 'string' && access.includes('citizen-owner');
      for (const caller of CALLERS) {
        const status = await call(route, caller);
        const expected = expectedFor(access, caller);
        const ok =
          expected === 'allow'
            ? status !== 401 &&
              status !== 403 &&
              status < 500 &&
              !(ownerRoute && caller === 'owner' && status === 404)
            : status === expected;
        if (!ok) wrong.push(`${route} as ${caller}: ${status}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('refuses a caller before it validates the body: an anonymous junk body is a 401, not a 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/reports', payload: { junk: true } });
    expect(res.statusCode).toBe(401);
    const asInspector = await t.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: bearer(tokens.inspector!),
      payload: { junk: true },
    });
    expect(asInspector.statusCode).toBe(403);
  });
});
