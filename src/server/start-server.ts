/**
 * Binds the app to a socket (HTTPS when config.tls is set) and owns graceful shutdown: stop accepting,
 * drain in-flight requests up to config.shutdownGraceMs, then stop jobs and modules and close the stores.
 */
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { AdminListener } from './admin.ts';
import type { Candor } from './candor.ts';

export type StartServerOptions = {
  /** Defaults to config.port (0 picks a free port). */
  port?: number;
  /** Defaults to config.host. */
  host?: string;
  /** Shut down on SIGINT/SIGTERM (the CLI does; tests call shutdown() themselves). */
  handleSignals?: boolean;
  /** Where the "is running" line goes; stdout by default. */
  print?: (line: string) => void;
  /** The loopback admin listener of this process (admin.ts); shutdown closes it first. */
  admin?: AdminListener;
};

export type RunningServer = {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Graceful shutdown; resolves once everything is closed. Idempotent. */
  shutdown(reason?: string): Promise<void>;
  /** Resolves when a shutdown (from a signal or a call) has completed. */
  readonly closed: Promise<void>;
};

export async function startServer(candor: Candor, options: StartServerOptions = {}): Promise<RunningServer> {
  const { config, logger } = candor;
  const host = options.host ?? config.host;
  const port = options.port ?? config.port;
  const listener = getRequestListener(candor.app.fetch);
  // The adapter answers every request itself (errors included); nothing is left to await here.
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    void listener(req, res);
  };
  const server: Server = config.tls
    ? createHttpsServer(
        { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) },
        handle,
      )
    : createHttpServer(handle);

  // In-flight requests, so shutdown knows when draining is done.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  server.on('request', (_req, res) => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) onIdle?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `${config.tls ? 'https' : 'http'}://${shownHost}:${bound}`;
  (options.print ?? ((line: string) => process.stdout.write(`${line}\n`)))(
    `Candor is running: dashboard and API at ${url}`,
  );
  logger.info({ url }, 'listening');

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let shuttingDown: Promise<void> | undefined;

  const drain = async () => {
    if (inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        logger.warn({ inFlight }, 'shutdown grace period over; closing remaining connections');
        resolve();
      }, config.shutdownGraceMs);
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  };

  const shutdown = (reason = 'requested') =>
    (shuttingDown ??= (async () => {
      logger.info({ reason, inFlight }, 'shutting down');
      // First, so CLI commands stop forwarding here and wait for the stores instead.
      await options.admin?.close();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await drain();
      server.closeAllConnections();
      await serverClosed;
      await candor.close();
      logger.info('stopped');
      resolveClosed();
    })());

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      shutdown(signal).catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  return { url, port: bound, server, shutdown, closed };
}
