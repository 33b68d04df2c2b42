/**
 * Process lifecycle with real sockets and real processes: graceful shutdown drains in-flight requests,
 * a second server on the same data directory fails with one clear line, `candor migrate` is idempotent,
 * and production refuses to start without its secrets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoute, z } from '@hono/zod-openapi';
import type { CandorModule } from '../../src/kernel/module.ts';
import { startServer } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';
import { startHarness } from './helpers.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/** Only CANDOR_* settings of the test itself: the developer's own environment must not leak in. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CANDOR_LOG_LEVEL: 'warn' };
  return { ...env, ...extra };
}

function runCli(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    env: cliEnv(extra),
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** Starts `candor serve` and resolves with its URL once it prints the ready line. */
function serve(
  dataDir: string,
  extra: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, 'serve', '--port', '0'], {
    env: cliEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Candor is running: dashboard and API at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1], stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const dirs: TempDir[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('graceful shutdown', () => {
  it('completes a request that is in flight, then stops accepting and closes the stores', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let entered: () => void = () => undefined;
    const started = new Promise<void>((r) => (entered = r));
    const slow: CandorModule = {
      name: 'slow',
      routes(router) {
        router.openapi(
          createRoute({
            method: 'get',
            path: '/test/slow',
            responses: {
              200: {
                description: 'ok',
                content: { 'application/json': { schema: z.object({ done: z.boolean() }) } },
              },
            },
          }),
          async (c) => {
            entered();
            await gate;
            return c.json({ done: true }, 200);
          },
        );
      },
    };
    let stopped = false;
    const flushing: CandorModule = { name: 'flushing', stop: async () => void (stopped = true) };
    const h = await startHarness({ extraModules: () => [slow, flushing] });
    try {
      const running = await startServer(h.candor, { port: 0, print: () => undefined });
      const inFlight = fetch(`${running.url}/test/slow`);
      await started;
      const shutdown = running.shutdown('test');
      // New connections are refused while the in-flight request drains.
      await expect(fetch(`${running.url}/health`)).rejects.toThrow();
      expect(stopped).toBe(false);
      release();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ done: true });
      await shutdown;
      expect(stopped).toBe(true);
      await expect(h.candor.stores.state.ping()).rejects.toThrow();
    } finally {
      await h.close().catch(() => undefined);
    }
  });
});

describe('candor serve as a process', () => {
  it('refuses a second server on the same data directory with one clear line and exit code 1', async () => {
    const dir = makeTempDir('candor-lock');
    dirs.push(dir);
    const first = await serve(dir.path);
    children.push(first.child);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);

    const second = runCli(['--data-dir', dir.path, 'serve', '--port', '0']);
    expect(second.status).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^candor: Another Candor process owns .+ Stop it/);
    expect(second.stdout).toBe('');

    // The first one is unharmed, and stops cleanly on SIGTERM.
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
  });

  /** Nice value of each thread of a process, by thread id (the main thread's id is the pid). */
  const niceOf = (pid: number) =>
    new Map(
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        // Fields after the command name (which may hold spaces): nice is the 19th field of stat.
        const rest = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return [Number(tid), Number(rest[16])] as const;
      }),
    );

  it.skipIf(process.platform !== 'linux')(
    'gives every thread but the one serving requests nice 10, and none when CANDOR_BACKGROUND_THREAD_NICE is 0',
    async () => {
      const own = niceOf(process.pid).get(process.pid)!;
      for (const [setting, want] of [
        [undefined, Math.max(own, 10)],
        ['0', own],
      ] as const) {
        const dir = makeTempDir('candor-nice');
        dirs.push(dir);
        const s = await serve(
          dir.path,
          setting === undefined ? {} : { CANDOR_BACKGROUND_THREAD_NICE: setting },
        );
        children.push(s.child);
        const pid = s.child.pid!;
        // Requests that reach DuckDB and the file pool, so their threads exist; then one rescan.
        for (let i = 0; i < 5; i++) expect((await fetch(`${s.url}/ready`)).status).toBe(200);
        await new Promise((r) => setTimeout(r, 2_500));
        const threads = niceOf(pid);
        expect(threads.size).toBeGreaterThan(4);
        expect(threads.get(pid)).toBe(own);
        for (const [tid, nice] of threads)
          if (tid !== pid) expect({ tid, nice }).toEqual({ tid, nice: want });
        s.child.kill('SIGTERM');
        expect(await exited(s.child)).toBe(0);
      }
    },
    30_000,
  );

  it('refuses to start in production without secrets, naming each missing one', () => {
    const dir = makeTempDir('candor-prod');
    dirs.push(dir);
    const r = runCli(['--data-dir', dir.path, 'serve', '--port', '0'], { CANDOR_ENV: 'production' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Refusing to start in production without secrets');
    for (const v of ['CANDOR_KEK', 'CANDOR_PSEUDONYM_KEY', 'CANDOR_SESSION_SECRET'])
      expect(r.stderr).toContain(v);
    expect(r.stdout).toBe('');
  });
});

describe('candor migrate', () => {
  it('applies every migration once and nothing the second time, printing one JSON document', () => {
    const dir = makeTempDir('candor-migrate');
    dirs.push(dir);
    const first = runCli(['--data-dir', dir.path, '--json', 'migrate']);
    expect(first.status, first.stderr).toBe(0);
    const applied = (JSON.parse(first.stdout) as { applied: string[] }).applied;
    expect(applied).toContain('catalog-0001-products-and-categories');
    expect(first.stderr).toContain('Generated development secrets');

    const second = runCli(['--data-dir', dir.path, 'migrate', '--json']);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ applied: [] });
    expect(second.stderr).not.toContain('Generated development secrets');
  });
});

describe('candor demo', () => {
  it('loads the same deterministic shop for the same seed, reporting it as one JSON document', () => {
    const summaries = [0, 1].map(() => {
      const dir = makeTempDir('candor-demo');
      dirs.push(dir);
      const r = runCli([
        '--data-dir',
        dir.path,
        '--json',
        'demo',
        '--shoppers',
        '20',
        '--days',
        '3',
        '--seed',
        '7',
      ]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as {
        catalog: { products: number };
        events: { accepted: number };
        eventsByType: object;
      };
    });
    expect(summaries[0]!.catalog.products).toBeGreaterThan(1000);
    expect(summaries[0]!.events.accepted).toBeGreaterThan(0);
    // The same shop, loaded into two fresh data directories; only the generated source id differs.
    const { sourceId: _a, ...first } = summaries[0] as { sourceId?: string };
    const { sourceId: _b, ...second } = summaries[1] as { sourceId?: string };
    expect(second).toEqual(first);
  });
});
