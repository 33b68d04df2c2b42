/**
 * The local admin endpoint (DESIGN §2). Only one process may own an embedded data directory, so while
 * `candor serve` runs, CLI commands on the same directory do their work here instead of opening the stores:
 * `POST /admin/run {argv}` runs the same command handler in this process, against its open Candor.
 *
 * It is a separate listener on 127.0.0.1 (never the public one, so it is unreachable from outside whatever
 * `--host` says), announced in `<dataDir>/admin.json` (mode 0600) with a random 256-bit token. Whoever can
 * read that file can already open the stores and their keys, so the token grants nothing new.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { AppError, isAppError } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import type { AuditModule } from '../modules/audit/index.ts';
import type { Candor } from './candor.ts';

export const ADMIN_FILE = 'admin.json';
export const ADMIN_HOST = '127.0.0.1';
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** What `<dataDir>/admin.json` holds. */
export type AdminFile = { url: string; token: string; pid: number; startedAt: number };

export const adminFileSchema = z.object({
  url: z.string().startsWith(`http://${ADMIN_HOST}:`),
  token: z.string().regex(/^[0-9a-f]{64}$/),
  pid: z.number().int().positive(),
  startedAt: z.number(),
});

export const adminRunRequestSchema = z
  .object({
    argv: z.array(z.string().max(8192)).min(1).max(200),
    /** The caller's working directory: relative file arguments resolve against it, not the server's. */
    cwd: z.string().min(1).max(4096),
    /** What the command would have read from standard input (e.g. `staff create --password-stdin`). */
    stdin: z
      .string()
      .max(1024 * 1024)
      .optional(),
    /** Answer as NDJSON lines (`{"stdout"}`, `{"stderr"}`, then `{"exitCode"}`) so progress shows live. */
    stream: z.boolean().optional(),
  })
  .strict();

export type AdminRunRequest = z.infer<typeof adminRunRequestSchema>;

/** Where a command's output goes while it runs in the server. */
export type AdminSink = { out(text: string): void; err(text: string): void };

/**
 * Runs one command line against the server's Candor (supplied by the CLI, which owns the commands).
 * Resolves with the exit code and the command's name (for the audit log; never its arguments).
 */
export type AdminRunner = (
  request: { argv: string[]; cwd: string; stdin: string | undefined },
  sink: AdminSink,
) => Promise<{ exitCode: number; command: string | null }>;

export type AdminListener = {
  readonly url: string;
  readonly file: string;
  /** Stops the listener and removes admin.json. Idempotent. */
  close(): Promise<void>;
};

/** True when the deployment keeps a store in files of the data directory (one owning process). */
export function isEmbedded(config: Candor['config']): boolean {
  return !config.stateUrl || !config.eventsUrl;
}

export function adminFilePath(dataDir: string): string {
  return path.join(dataDir, ADMIN_FILE);
}

/** The announced admin listener of a data directory, or null when there is none (or it is unreadable). */
export function readAdminFile(dataDir: string): AdminFile | null {
  let text: string;
  try {
    text = readFileSync(adminFilePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = adminFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Compares digests, so neither the content nor the length of the token leaks through timing. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message, requestId: newId('req') } }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.from(chunk as Buffer);
    size += b.length;
    if (size > MAX_BODY_BYTES)
      throw new AppError('payload_too_large', 'The admin request is larger than 2 MB; send less on stdin.');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the admin listener for `candor` and announces it in its data directory. Only for embedded stores:
 * in server mode (PostgreSQL) commands open the stores themselves and never meet a lock.
 */
export async function startAdminListener(candor: Candor, run: AdminRunner): Promise<AdminListener> {
  const { config, logger } = candor;
  const token = randomBytes(32).toString('hex');
  const file = adminFilePath(config.dataDir);
  const audit = (candor.modules.find((m) => m.name === 'audit') as AuditModule | undefined)?.service;
  const record = async (
    outcome: 'success' | 'failure' | 'denied',
    details: Record<string, string | number>,
  ) => {
    try {
      await audit?.record({ actor: 'system:admin', action: 'admin.run', target: null, outcome, details });
    } catch (err) {
      logger.error({ err }, 'admin request could not be audited');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (url.pathname !== '/admin/run') {
      sendError(res, 404, 'not_found', 'The admin endpoint has one route: POST /admin/run.');
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, 'method_not_allowed', 'Use POST /admin/run.');
      return;
    }
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!sameToken(given, token)) {
      await record('denied', { reason: given === '' ? 'no_token' : 'bad_token' });
      sendError(
        res,
        401,
        'unauthorized',
        `Send the token from ${file} as "Authorization: Bearer <token>" (the candor command does this itself).`,
      );
      return;
    }
    let body: AdminRunRequest;
    try {
      const parsed = adminRunRequestSchema.safeParse(JSON.parse(await readBody(req)));
      if (!parsed.success) {
        sendError(
          res,
          400,
          'invalid_request',
          'Send JSON {"argv": ["command", ...], "cwd": "/dir", "stdin"?: "...", "stream"?: true}.',
        );
        return;
      }
      body = parsed.data;
    } catch (err) {
      if (isAppError(err)) sendError(res, 413, err.code, err.message);
      else
        sendError(res, 400, 'invalid_request', 'The body is not JSON; send {"argv": [...], "cwd": "..."}.');
      return;
    }

    const stream = body.stream === true;
    let stdout = '';
    let stderr = '';
    if (stream) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const sink: AdminSink = stream
      ? {
          out: (text) => void res.write(`${JSON.stringify({ stdout: text })}\n`),
          err: (text) => void res.write(`${JSON.stringify({ stderr: text })}\n`),
        }
      : { out: (text) => (stdout += text), err: (text) => (stderr += text) };
    let result: { exitCode: number; command: string | null };
    try {
      result = await run({ argv: body.argv, cwd: body.cwd, stdin: body.stdin }, sink);
    } catch (err) {
      // The runner reports command failures as output and an exit code; reaching here is a defect.
      logger.error({ err }, 'admin command crashed');
      sink.err(`candor: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
      result = { exitCode: 1, command: null };
    }
    await record(result.exitCode === 0 ? 'success' : 'failure', {
      command: result.command ?? 'unknown',
      exitCode: result.exitCode,
    });
    if (stream) res.end(`${JSON.stringify({ exitCode: result.exitCode })}\n`);
    else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ stdout, stderr, exitCode: result.exitCode }));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'admin request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'The admin request failed; see the server log.');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, ADMIN_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${ADMIN_HOST}:${(server.address() as AddressInfo).port}`;

  // Written whole under a temporary name, then renamed: a reader never sees half a file.
  const content: AdminFile = { url, token, pid: process.pid, startedAt: Date.now() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(content), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  // A crash still removes it where Node gets the chance; otherwise readers detect it as stale.
  const removeFile = () => {
    if (readAdminFile(config.dataDir)?.token === token) rmSync(file, { force: true });
  };
  process.once('exit', removeFile);
  logger.info({ url }, 'admin listener (loopback only)');

  let closing: Promise<void> | undefined;
  return {
    url,
    file,
    close: () =>
      (closing ??= (async () => {
        removeFile();
        process.off('exit', removeFile);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
}
