/** Test harness: a real Candor on SQLite + DuckDB in a temp dir, with captured logs and permissive guards. */
import type { MiddlewareHandler } from 'hono';
import { testConfig, type RuntimeConfig } from '../../src/kernel/config.ts';
import type { AppEnv, Guards } from '../../src/kernel/http.ts';
import { createLogger } from '../../src/kernel/logger.ts';
import {
  createCandor,
  createModules,
  type Candor,
  type CandorOptions,
  type ModuleContext,
} from '../../src/server/index.ts';
import type { CandorModule } from '../../src/kernel/module.ts';
import { makeTempDir } from '../../src/storage/testing.ts';

export type Harness = {
  candor: Candor;
  config: RuntimeConfig;
  /** Every log line written so far, raw. */
  logs(): string;
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
};

/** Admits every request as an owner: for tests of the routes behind the guards, not of auth itself. */
export const allowAllGuards: Guards = {
  staff: () => {
    const mw: MiddlewareHandler<AppEnv> = async (c, next) => {
      c.set('principal', {
        kind: 'staff',
        staffId: 'stf_test',
        role: 'owner',
        sessionId: null,
        apiKeyId: null,
      });
      await next();
    };
    return mw;
  },
  shopper: async (_c, next) => next(),
  writeKey: async (_c, next) => next(),
};

export type HarnessOptions = Omit<CandorOptions, 'logger'> & {
  configOverrides?: Record<string, unknown>;
  /** Extra modules mounted after the real ones. */
  extraModules?: (context: ModuleContext) => CandorModule[];
};

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = makeTempDir('candor-http');
  const config = testConfig(dir.path, options.configOverrides ?? {});
  let captured = '';
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        captured += line;
      },
    },
  });
  const { extraModules, configOverrides: _ignored, ...candorOptions } = options;
  const candor = await createCandor(config, {
    guards: allowAllGuards,
    jobs: false,
    ...candorOptions,
    ...(extraModules
      ? { modules: (ctx: ModuleContext) => [...createModules(ctx), ...extraModules(ctx)] }
      : {}),
    logger,
  });
  return {
    candor,
    config,
    logs: () => captured,
    request: async (path, init) => candor.app.request(path, init),
    close: async () => {
      try {
        await candor.close();
      } finally {
        dir.cleanup();
      }
    },
  };
}

export const json = (body: unknown, method = 'PUT'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
