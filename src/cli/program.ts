/** The commands of `candor` (commander). Each loads configuration the same way the server does. */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { generateSecrets, type RuntimeConfig } from '../kernel/config.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import { openCandorForCli, type InServer } from './admin-client.ts';
import type { GlobalOptions } from './cli-config.ts';
import { serveCommand } from './serve.command.ts';
import { securityCommands } from './security.command.ts';
import { demoCommand } from './demo.command.ts';
import { dsarCommands } from './dsar.command.ts';
import { importCommand } from './import.command.ts';
import { campaignCommands } from './campaign.command.ts';
import { evaluateNluCommand } from './commands/evaluate-nlu.ts';
import { evaluateRecsCommand } from './commands/evaluate-recs.ts';
import { evaluateFraudCommand } from './commands/evaluate-fraud.ts';
import { evaluateChurnCommand } from './commands/evaluate-churn.ts';
import { evaluateSentimentCommand } from './commands/evaluate-sentiment.ts';

export type Io = {
  /** Results (stdout). */
  out: (text: string) => void;
  /** Notices and progress (stderr). */
  say: (line: string) => void;
  /** Where the exit code goes; the process's own when absent. */
  exit?: (code: number) => void;
  /** Set while the command runs inside `candor serve` for the admin endpoint (admin-client.ts). */
  server?: InServer;
};

/** Marks the command as failed without throwing (its output stays as printed). */
export function setExitCode(io: Io, code: number): void {
  if (io.exit) io.exit(code);
  else process.exitCode = code;
}

export const stdio: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  say: (line) => process.stderr.write(`${line}\n`),
};

/** Logs go to stderr so stdout stays for results. */
export function cliLogger(config: RuntimeConfig): Logger {
  return createLogger({ level: config.logLevel, destination: pino.destination({ fd: 2, sync: false }) });
}

export function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function buildProgram(io: Io = stdio): Command {
  const program = new Command('candor')
    .description('Privacy-first precision marketing for online shops.')
    .option('--data-dir <dir>', 'data directory of the embedded stores (default ./.candor-data)')
    .option('--config <file>', 'JSON config file (same keys as the CANDOR_* environment variables)')
    .option('--json', 'print one JSON document on stdout and nothing else there')
    .showHelpAfterError()
    .exitOverride();

  serveCommand(program, io);
  campaignCommands(program, io);

  program
    .command('migrate')
    .description('Apply every pending migration to the stores (safe to run again).')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const session = await openCandorForCli(cmd, io);
      if (!session) return;
      const { applied } = session.candor.migrations;
      await session.close();
      if (g.json) io.out(JSON.stringify({ applied }));
      else
        io.out(
          applied.length === 0
            ? 'Stores are up to date.'
            : `Applied ${applied.length} migrations:\n  ${applied.join('\n  ')}`,
        );
    });

  const secrets = program.command('secrets').description('Secrets the server needs outside development.');
  secrets
    .command('generate')
    .description('Print a fresh set of secrets (as CANDOR_* variables, or JSON with --json).')
    .action((_opts: unknown, cmd: Command) => {
      const fresh = generateSecrets();
      if (globals(cmd).json) {
        io.out(JSON.stringify(fresh));
        return;
      }
      const env: Record<keyof typeof fresh, string> = {
        kek: 'CANDOR_KEK',
        pseudonymKey: 'CANDOR_PSEUDONYM_KEY',
        sessionSecret: 'CANDOR_SESSION_SECRET',
        shopperTokenSecret: 'CANDOR_SHOPPER_TOKEN_SECRET',
        signingKey: 'CANDOR_SIGNING_KEY',
      };
      io.out(
        (Object.keys(fresh) as (keyof typeof fresh)[])
          .map((k) => `${env[k]}=${JSON.stringify(fresh[k])}`)
          .join('\n'),
      );
    });

  demoCommand(program, io);
  dsarCommands(program, io);
  importCommand(program, io);
  securityCommands(program, io);
  evaluateNluCommand(program, io);
  evaluateRecsCommand(program, io);
  evaluateFraudCommand(program, io);
  evaluateChurnCommand(program, io);
  evaluateSentimentCommand(program, io);

  return program;
}
