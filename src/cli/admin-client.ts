/**
 * Commands and a running server (DESIGN §2). Only one process may own an embedded data directory, so a
 * command that needs the stores calls `openCandorForCli`: when `candor serve` owns the directory (a live
 * `<dataDir>/admin.json`), the whole command line is forwarded to the server's loopback admin endpoint and its
 * output printed exactly as if it had run here; otherwise the stores are opened in this process. Inside the
 * server (`createAdminRunner`) the same handlers run against the server's own Candor.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { RuntimeConfig } from '../kernel/config.ts';
import { AppError, isAppError } from '../kernel/errors.ts';
import {
  createCandor,
  isEmbedded,
  readAdminFile,
  type AdminFile,
  type AdminRunner,
  type Candor,
} from '../server/index.ts';
import { loadRuntimeConfig } from './cli-config.ts';
import { buildProgram, cliLogger, globals, setExitCode, type Io } from './program.ts';

/** What a command sees when it runs inside the server for the admin endpoint. */
export type InServer = {
  candor: Candor;
  /** The caller's working directory (relative file arguments resolve against it). */
  cwd: string;
  /** What the caller read from its standard input, if anything. */
  stdin: string | undefined;
};

/** An open Candor for one command; `close()` closes it only when the command opened it. */
export type CliSession = { candor: Candor; config: RuntimeConfig; close(): Promise<void> };

/** Commands that run through the admin endpoint: the ones that open the stores. */
export const ADMIN_COMMANDS: readonly string[] = [
  'migrate',
  'demo',
  'staff create',
  'source create',
  'audit verify',
  'keys rotate',
  'dsar export',
  'dsar erase',
  'retention run',
  'import orders',
  'campaign send',
];

/** How long a command waits for a data directory that a starting or stopping server holds. */
const LOCK_WAIT_MS = 20_000;

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A file argument as the user meant it: relative to where they ran the command. */
export function cliPath(io: Io, file: string): string {
  return path.resolve(io.server?.cwd ?? process.cwd(), file);
}

/** The admin file of a data directory when the process it names is alive (else stale, so ignored). */
export function liveAdmin(dataDir: string): AdminFile | null {
  const admin = readAdminFile(dataDir);
  if (!admin) return null;
  try {
    process.kill(admin.pid, 0);
  } catch (err) {
    // EPERM: alive, under another user; whether it answers is for the request to find out.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return admin;
}

/**
 * Runs a command line on the server named by `admin`, printing its output through `io` as it arrives.
 * 'unreachable' when nothing answers (a stale file): the caller then opens the stores itself.
 */
export async function forwardToServer(
  admin: AdminFile,
  request: { argv: string[]; cwd: string; stdin: string | undefined },
  io: Io,
): Promise<{ exitCode: number } | 'unreachable'> {
  let res: Response;
  try {
    res = await fetch(`${admin.url}/admin/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        argv: request.argv,
        cwd: request.cwd,
        ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
        stream: true,
      }),
    });
  } catch {
    return 'unreachable';
  }
  if (res.status !== 200 || !res.body) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new AppError(
      res.status === 401 ? 'unauthorized' : 'unavailable',
      `The server running on this data directory refused the command (HTTP ${res.status}): ${
        body?.error?.message ?? 'no reason given'
      } Restart \`candor serve\` if this persists.`,
    );
  }
  let exitCode: number | undefined;
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    const msg = JSON.parse(line) as { stdout?: string; stderr?: string; exitCode?: number };
    if (msg.stdout !== undefined) io.out(msg.stdout);
    if (msg.stderr !== undefined) io.say(msg.stderr.endsWith('\n') ? msg.stderr.slice(0, -1) : msg.stderr);
    if (msg.exitCode !== undefined) exitCode = msg.exitCode;
  };
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = res.body.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buffered += decoder.decode(r.value, { stream: true });
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        onLine(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
      }
    }
  } catch {
    // The connection broke mid-answer; reported below.
  }
  onLine(buffered);
  if (exitCode === undefined)
    throw new AppError(
      'unavailable',
      'The server stopped before the command finished. Check with the same command whether it took effect, then run it again if needed.',
    );
  return { exitCode };
}

/**
 * The Candor a command works on. Inside the server: the server's own (nothing to close). Otherwise, when a
 * live server owns the data directory: the command line is forwarded there, its output printed, and the
 * result is `undefined` (the command has nothing left to do). Else the stores are opened here.
 * `stdin` is what the command already read from standard input, forwarded with the command line.
 */
export async function openCandorForCli(
  cmd: Command,
  io: Io,
  forward: { stdin?: string } = {},
): Promise<CliSession | undefined> {
  if (io.server) {
    const candor = io.server.candor;
    // Pending migrations were applied when the server started, so this command applied none.
    return {
      candor: { ...candor, migrations: { applied: [] } },
      config: candor.config,
      close: () => Promise.resolve(),
    };
  }
  const config = loadRuntimeConfig(globals(cmd), {}, io.say);
  const embedded = isEmbedded(config);
  const forwarded = async (): Promise<boolean> => {
    const admin = embedded ? liveAdmin(config.dataDir) : null;
    if (!admin) return false;
    // main.ts parses process.argv: the same command line, minus node and the script.
    const outcome = await forwardToServer(
      admin,
      { argv: process.argv.slice(2), cwd: process.cwd(), stdin: forward.stdin },
      io,
    );
    if (outcome === 'unreachable') return false;
    if (outcome.exitCode !== 0) setExitCode(io, outcome.exitCode);
    return true;
  };
  if (await forwarded()) return undefined;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      const candor = await createCandor(config, { logger: cliLogger(config), jobs: false });
      return { candor, config, close: () => candor.close() };
    } catch (err) {
      // A server starting (before its admin file exists) or stopping holds the directory for a moment.
      if (!embedded || !isAppError(err) || err.code !== 'store_locked' || Date.now() > deadline) throw err;
    }
    if (!told) io.say('The data directory is in use by another process; waiting for it…');
    told = true;
    await sleep(250);
    if (await forwarded()) return undefined;
  }
}

/**
 * The admin endpoint's runner for a server: parses the command line with the same program as the CLI and
 * runs the handler against `candor`, capturing its output. Only the commands in ADMIN_COMMANDS run.
 */
export function createAdminRunner(candor: Candor): AdminRunner {
  return async (request, sink) => {
    let exitCode = 0;
    let command: string | null = null;
    const io: Io = {
      out: (text) => sink.out(text.endsWith('\n') ? text : `${text}\n`),
      say: (line) => sink.err(`${line}\n`),
      exit: (code) => {
        exitCode = code;
      },
      server: { candor, cwd: request.cwd, stdin: request.stdin },
    };
    const program = buildProgram(io);
    const capture = (c: Command) => {
      c.configureOutput({ writeOut: (s) => sink.out(s), writeErr: (s) => sink.err(s) });
      for (const sub of c.commands) capture(sub);
    };
    capture(program);
    program.hook('preAction', (_self, action) => {
      command = commandPath(action);
      if (!ADMIN_COMMANDS.includes(command))
        throw new AppError(
          'invalid_request',
          `\`candor ${command}\` does not run through the server's admin endpoint; run it directly.`,
        );
    });
    try {
      await program.parseAsync(request.argv, { from: 'user' });
    } catch (err) {
      if (isAppError(err)) {
        sink.err(`candor: ${err.message}\n`);
        exitCode = 1;
      } else if (err instanceof Error && 'code' in err && String(err.code).startsWith('commander.')) {
        // commander already wrote its message (through the sink).
        exitCode = (err as { exitCode?: number }).exitCode ?? 1;
      } else {
        sink.err(`candor: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
        exitCode = 1;
      }
    }
    return { exitCode, command };
  };
}
