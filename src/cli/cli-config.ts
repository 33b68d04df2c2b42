/**
 * Configuration for every command: loadConfig + resolveSecrets, with the global flags as the highest
 * precedence. Development secrets are generated into the data directory once, and the user is told.
 */
import { loadConfig, resolveSecrets, type RuntimeConfig } from '../kernel/config.ts';

export type GlobalOptions = { dataDir?: string; config?: string; json?: boolean };

export function loadRuntimeConfig(
  global: GlobalOptions,
  overrides: Record<string, unknown>,
  say: (line: string) => void,
): RuntimeConfig {
  const all: Record<string, unknown> = { ...overrides };
  if (global.dataDir !== undefined) all.dataDir = global.dataDir;
  const config = loadConfig({
    ...(global.config !== undefined ? { file: global.config } : {}),
    overrides: all,
  });
  const { config: runtime, generatedFile } = resolveSecrets(config);
  if (generatedFile) {
    say(
      `Generated development secrets into ${generatedFile} (keep this file private; ` +
        'production needs them set explicitly, see `candor secrets generate`).',
    );
  }
  return runtime;
}
