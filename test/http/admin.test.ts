/**
 * Commands and a running server, with real processes (DESIGN §2): while `candor serve` owns an embedded
 * data directory, commands on it run through its loopback admin endpoint and print what they would have
 * printed with the server stopped; never a lock error. The endpoint wants the token from admin.json, listens
 * on 127.0.0.1 only, and a stale admin.json is ignored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const PASSWORD = 'correct-horse-battery-staple-42';

/** Only CANDOR_* settings of the test itself: the developer's own environment must not leak in. */
function cliEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, CANDOR_LOG_LEVEL: 'warn' };
}

type Run = { status: number | null; stdout: string; stderr: string };

/** Runs `candor` as a separate process (asynchronously: the server under test must keep answering). */
function runCli(args: string[], options: { stdin?: string; cwd?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: cliEnv(),
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

type Served = { child: ChildProcess; stop(): Promise<void> };

async function serve(dataDir: string): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, 'serve', '--port', '0'], {
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Candor is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${err}`)));
  });
  return {
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await done;
    },
  };
}

type AdminJson = { url: string; token: string; pid: number };
const adminOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'admin.json'), 'utf8')) as AdminJson;

/** Replaces what differs on every run (ids, keys, times, signatures) so two outputs can be compared. */
const VARYING = new Set([
  'id',
  'sourceId',
  'writeKey',
  'totpUri',
  'token',
  'requestId',
  'publicKey',
  'signature',
]);
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, VARYING.has(k) ? typeof v : shape(v)]),
    );
  if (typeof value === 'number') return 0;
  return value;
}

/** The admin commands under test, run in order; `subject` differs per data directory only by name. */
async function commandSuite(dir: string, cwd: string) {
  const g = ['--data-dir', dir];
  return {
    staff: await runCli(
      [
        ...g,
        'staff',
        'create',
        '--email',
        'owner@shop.test',
        '--role',
        'owner',
        '--password-stdin',
        '--json',
      ],
      {
        stdin: PASSWORD,
      },
    ),
    badRole: await runCli(
      [...g, 'staff', 'create', '--email', 'x@shop.test', '--role', 'nope', '--password-stdin'],
      {
        stdin: PASSWORD,
      },
    ),
    source: await runCli([...g, 'source', 'create', '--name', 'web shop', '--json']),
    token: await runCli([...g, 'shopper-token', '--user', 'cust-1', '--json']),
    verify: await runCli([...g, 'audit', 'verify', '--json']),
    erase: await runCli([...g, 'dsar', 'erase', '--subject', 'cust-1', '--json']),
    exported: await runCli([...g, 'dsar', 'export', '--subject', 'cust-2', '--out', 'bundle.tar', '--json'], {
      cwd,
    }),
    migrate: await runCli([...g, 'migrate']),
  };
}

const dirs: TempDir[] = [];
let served: Served;
let live: TempDir;
let viaServer: Awaited<ReturnType<typeof commandSuite>>;
let liveCwd: string;

beforeAll(async () => {
  live = makeTempDir('candor-admin');
  dirs.push(live);
  served = await serve(path.join(live.path, 'data'));
  liveCwd = path.join(live.path, 'work');
  mkdirSync(liveCwd);
  viaServer = await commandSuite(path.join(live.path, 'data'), liveCwd);
}, 180_000);

afterAll(async () => {
  await served?.stop();
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('commands while candor serve owns the data directory', () => {
  it('announces a loopback admin listener in a private admin.json', () => {
    const file = path.join(live.path, 'data', 'admin.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const admin = adminOf(path.join(live.path, 'data'));
    expect(new URL(admin.url).hostname).toBe('127.0.0.1');
    expect(admin.token).toMatch(/^[0-9a-f]{64}$/);
    expect(admin.pid).toBe(served.child.pid);
  });

  it('runs staff create, source create, shopper-token, audit verify and dsar erase/export through the server', () => {
    for (const [name, r] of Object.entries(viaServer)) {
      expect(r.stderr, name).not.toMatch(/lock|in use/i);
      if (name !== 'badRole') expect(r.status, `${name}: ${r.stderr}`).toBe(0);
    }
    expect(JSON.parse(viaServer.staff.stdout)).toMatchObject({ id: expect.stringMatching(/^stf_/) });
    expect(JSON.parse(viaServer.source.stdout)).toMatchObject({ writeKey: expect.stringMatching(/^wk_/) });
    expect(JSON.parse(viaServer.token.stdout)).toMatchObject({ token: expect.any(String) });
    expect(JSON.parse(viaServer.verify.stdout)).toMatchObject({ ok: true, firstBroken: null });
    expect(JSON.parse(viaServer.erase.stdout)).toMatchObject({ kind: 'candor.erasure-receipt' });
    // Relative paths mean the caller's directory, not the server's.
    expect(existsSync(path.join(liveCwd, 'bundle.tar'))).toBe(true);
    // --json prints one JSON document on stdout and nothing else there.
    for (const r of [viaServer.staff, viaServer.source, viaServer.verify, viaServer.erase])
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('answers a failing command with the same message and exit code as a local run', () => {
    expect(viaServer.badRole.status).toBe(1);
    expect(viaServer.badRole.stderr).toMatch(/^candor: Unknown role "nope"/m);
  });

  it('refuses a missing or wrong token with 401 and runs nothing', async () => {
    const admin = adminOf(path.join(live.path, 'data'));
    const body = JSON.stringify({ argv: ['source', 'create', '--name', 'intruder'], cwd: '/' });
    for (const authorization of [
      undefined,
      `Bearer ${'0'.repeat(64)}`,
      `Bearer ${admin.token.slice(0, 63)}`,
    ]) {
      const res = await fetch(`${admin.url}/admin/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
      expect(res.status).toBe(401);
      const json = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(json.error.code).toBe('unauthorized');
      expect(json.error.requestId).toBeTruthy();
    }
  });

  it('answers bad requests with a 4xx JSON error and runs only store commands', async () => {
    const admin = adminOf(path.join(live.path, 'data'));
    const post = (body: string) =>
      fetch(`${admin.url}/admin/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body,
      });
    expect((await post('not json')).status).toBe(400);
    expect((await post(JSON.stringify({ argv: 'migrate', cwd: '/' }))).status).toBe(400);
    const serveAgain = await post(JSON.stringify({ argv: ['serve', '--port', '0'], cwd: '/' }));
    expect(serveAgain.status).toBe(200);
    const result = (await serveAgain.json()) as { stdout: string; stderr: string; exitCode: number };
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/does not run through the server/);
  });

  it('listens on 127.0.0.1 only', async () => {
    const admin = adminOf(path.join(live.path, 'data'));
    const port = new URL(admin.url).port;
    // Every 127/8 address is loopback on Linux: a listener on all interfaces would answer 127.0.0.2 too.
    const other = await fetch(`http://127.0.0.2:${port}/admin/run`, { method: 'POST' }).then(
      (r) => r.status,
      (err: unknown) => (err as { cause?: { code?: string } }).cause?.code ?? 'error',
    );
    expect(other).toBe('ECONNREFUSED');
  });
});

describe('the same commands with the server stopped', () => {
  it('print the same documents and exit codes, and the server audited every admin run', async () => {
    await served.stop();
    const data = path.join(live.path, 'data');
    expect(existsSync(path.join(data, 'admin.json'))).toBe(false);
    const auditRows = new Database(path.join(data, 'state.sqlite'), { readonly: true })
      .prepare(`select actor, outcome, details from audit_entries where action = 'admin.run'`)
      .all() as { actor: string; outcome: string; details: string }[];
    expect(auditRows.filter((r) => r.outcome === 'denied').length).toBeGreaterThanOrEqual(3);
    expect(auditRows.some((r) => r.details.includes('staff create') && r.outcome === 'success')).toBe(true);
    // Arguments (customer ids, e-mail addresses) are not in the permanent audit chain.
    expect(JSON.stringify(auditRows)).not.toMatch(/cust-1|owner@shop\.test/);

    const fresh = makeTempDir('candor-admin-local');
    dirs.push(fresh);
    const cwd = path.join(fresh.path, 'work');
    mkdirSync(cwd);
    const local = await commandSuite(path.join(fresh.path, 'data'), cwd);
    for (const name of Object.keys(viaServer) as (keyof typeof viaServer)[]) {
      expect(local[name].status, `${name}: ${local[name].stderr}`).toBe(viaServer[name].status);
      if (name === 'migrate' || name === 'badRole')
        expect(local[name].stdout, name).toBe(viaServer[name].stdout);
      else
        expect(shape(JSON.parse(local[name].stdout)), name).toEqual(
          shape(JSON.parse(viaServer[name].stdout)),
        );
    }
    expect(local.badRole.stderr.trim().split('\n').at(-1)).toBe(
      viaServer.badRole.stderr.trim().split('\n').at(-1),
    );
    expect(existsSync(path.join(cwd, 'bundle.tar'))).toBe(true);
  }, 120_000);

  it('ignore a stale admin.json (dead process, or nothing listening) and open the stores', async () => {
    const dir = makeTempDir('candor-admin-stale');
    dirs.push(dir);
    const data = path.join(dir.path, 'data');
    mkdirSync(data);
    // A port that was free a moment ago: nothing answers there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const exited = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => exited.once('exit', resolve));
    const write = (pid: number) =>
      writeFileSync(
        path.join(data, 'admin.json'),
        JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 'a'.repeat(64), pid, startedAt: 0 }),
        { mode: 0o600 },
      );

    write(exited.pid!);
    const dead = await runCli(['--data-dir', data, 'source', 'create', '--name', 'a', '--json']);
    expect(dead.status, dead.stderr).toBe(0);
    expect(JSON.parse(dead.stdout)).toMatchObject({ writeKey: expect.stringMatching(/^wk_/) });

    // A live pid (this test runner) whose listener is gone: connection refused, also stale.
    write(process.pid);
    const refused = await runCli(['--data-dir', data, 'audit', 'verify', '--json']);
    expect(refused.status, refused.stderr).toBe(0);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: true });
  }, 60_000);
});
