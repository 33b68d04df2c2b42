/**
 * Security commands (DESIGN §9): `staff create`, `source create`, `shopper-token`, `audit verify`.
 * The bootstrap owner is made here (no default account, no default password); the password is read
 * from stdin so it never appears in the process list or shell history.
 */
import type { Command } from 'commander';
import { AppError } from '../kernel/errors.ts';
import type { AuditModule } from '../modules/audit/index.ts';
import {
  shopperTokenCommand,
  sourceCreateCommand,
  staffCreateCommand,
  type AuthModule,
} from '../modules/auth/index.ts';
import { createKeyRing } from '../kernel/crypto.ts';
import { rotateKeys, type Candor } from '../server/index.ts';
import { openCandorForCli } from './admin-client.ts';
import { loadRuntimeConfig } from './cli-config.ts';
import { globals, setExitCode, type Io } from './program.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs fn on an open Candor; undefined when a running server did the whole command (already printed). */
async function withCandor<T>(
  cmd: Command,
  io: Io,
  fn: (candor: Candor) => Promise<T>,
  forward: { stdin?: string } = {},
): Promise<T | undefined> {
  const session = await openCandorForCli(cmd, io, forward);
  if (!session) return undefined;
  try {
    return await fn(session.candor);
  } finally {
    await session.close();
  }
}

function moduleOf<T>(candor: Candor, name: string): T {
  const m = candor.modules.find((x) => x.name === name);
  if (!m) throw new AppError('internal', `The ${name} module is not loaded.`);
  return m as T;
}

export function securityCommands(program: Command, io: Io): void {
  const staff = program.command('staff').description('Staff accounts.');
  staff
    .command('create')
    .description('Create a staff account; prints the authenticator (TOTP) URI to enrol at first sign-in.')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption(
      '--role <role>',
      'owner, admin, analyst, marketer, support, privacy_officer or security_officer',
    )
    .option('--password-stdin', 'read the password from standard input')
    .action(async (opts: { email: string; role: string; passwordStdin?: boolean }, cmd: Command) => {
      if (!opts.passwordStdin) {
        throw new AppError(
          'invalid_request',
          'Pass the password on standard input with --password-stdin (never as an argument).',
        );
      }
      const password = io.server ? (io.server.stdin ?? '') : await readStdin();
      const result = await withCandor(
        cmd,
        io,
        (candor) =>
          staffCreateCommand(moduleOf<AuthModule>(candor, 'auth'), {
            email: opts.email,
            role: opts.role,
            password,
          }),
        { stdin: password },
      );
      if (!result) return;
      if (globals(cmd).json) io.out(JSON.stringify(result));
      else
        io.out(
          `Created staff ${result.id}.\nAdd this to an authenticator app, then sign in:\n  ${result.totpUri}`,
        );
    });

  const source = program
    .command('source')
    .description('Sources (web shop, app, imports) and their write keys.');
  source
    .command('create')
    .description('Create a source; its public write key is shown once.')
    .requiredOption('--name <name>', 'a name staff will recognise, e.g. "web shop"')
    .action(async (opts: { name: string }, cmd: Command) => {
      const result = await withCandor(cmd, io, (candor) =>
        sourceCreateCommand(moduleOf<AuthModule>(candor, 'auth'), { name: opts.name }),
      );
      if (!result) return;
      if (globals(cmd).json) io.out(JSON.stringify(result));
      else io.out(`Source ${result.sourceId}\nWrite key (shown once): ${result.writeKey}`);
    });

  program
    .command('shopper-token')
    .description("Mint a shopper token as a shop's backend would (HS256 JWT, sub = customer id).")
    .requiredOption('--user <id>', "the shop's customer id")
    .option('--ttl <duration>', 'lifetime, e.g. 15m, 2h', '15m')
    .action(async (opts: { user: string; ttl: string }, cmd: Command) => {
      const config = loadRuntimeConfig(globals(cmd), {}, io.say);
      const result = await shopperTokenCommand(config, { user: opts.user, ttl: opts.ttl });
      io.out(globals(cmd).json ? JSON.stringify(result) : result.token);
    });

  const keys = program.command('keys').description('Encryption keys.');
  keys
    .command('rotate')
    .description(
      'Re-wrap every stored data key under the primary KEK (CANDOR_KEK); afterwards the old KEK can be removed from CANDOR_PREVIOUS_KEKS.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const result = await withCandor(cmd, io, async (candor) => {
        const { secrets } = candor.config;
        if (!secrets.kek)
          throw new AppError('missing_secret', 'Set CANDOR_KEK to the new key-encryption key first.');
        const rotated = await rotateKeys(
          candor.stores.state,
          createKeyRing(secrets.kek, secrets.previousKeks),
        );
        await moduleOf<AuditModule>(candor, 'audit').service.record({
          action: 'keys.rotate',
          actor: 'system:cli',
          target: `kek:${rotated.primaryKek}`,
          outcome: 'success',
          details: { rewrapped: rotated.total },
        });
        return rotated;
      });
      if (!result) return;
      if (globals(cmd).json) io.out(JSON.stringify(result));
      else io.out(`Re-wrapped ${result.total} keys under KEK ${result.primaryKek}.`);
    });

  const audit = program.command('audit').description('The tamper-evident audit log.');
  audit
    .command('verify')
    .description('Re-walk the hash chain and check signed checkpoints; exits 1 when broken.')
    .action(async (_opts: unknown, cmd: Command) => {
      const result = await withCandor(cmd, io, (candor) =>
        moduleOf<AuditModule>(candor, 'audit').service.verify(),
      );
      if (!result) return;
      const doc = {
        ok: result.ok,
        entries: result.entries,
        firstBroken: result.firstBroken,
        reason: result.reason,
      };
      if (globals(cmd).json) io.out(JSON.stringify(doc));
      else
        io.out(
          result.ok
            ? `Audit chain intact: ${result.entries} entries, ${result.checkpoints} signed checkpoints.`
            : `Audit chain BROKEN at entry ${result.firstBroken}: ${result.reason}`,
        );
      if (!result.ok) setExitCode(io, 1);
    });
}
