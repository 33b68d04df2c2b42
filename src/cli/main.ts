/**
 * The `candor` command. Stdout carries results only (one JSON document with --json); progress, notices
 * and logs go to stderr. Failures print one line naming what to do and exit with code 1.
 */
import { isAppError } from '../kernel/errors.ts';
import { buildProgram } from './program.ts';

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (isAppError(err)) {
      process.stderr.write(`candor: ${err.message}\n`);
    } else if (err instanceof Error && 'code' in err && String(err.code).startsWith('commander.')) {
      // commander already printed its message (unknown option, missing argument, --help).
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
      return;
    } else {
      process.stderr.write(`candor: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exitCode = 1;
  }
}

await main(process.argv);
