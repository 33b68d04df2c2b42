/**
 * Serves the built web apps from the composition root: the staff dashboard at `/` (every non-API path
 * falls back to it, so its history routes survive a reload), the shoppers' privacy centre at `/privacy`,
 * the consent banner at `/banner.js` and the browser SDK at `/sdk/*`. API paths are never answered here:
 * an unknown `/v1/...` path still gets the JSON 404. The strict CSP set by the app (script-src 'self')
 * holds because the built pages load only same-origin files and have no inline scripts.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from '../kernel/http.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = path.join(ROOT, 'web/dist');
export const SDK_DIST = path.join(ROOT, 'sdk/dist');
/** The chat widget is plain JavaScript with no build step: one script tag on a shop's page. */
export const CHAT_WIDGET = path.join(ROOT, 'web/chat-widget/chat-widget.js');

export type WebOptions = { webDir?: string; sdkDir?: string };

/** Paths owned by the API and the operational endpoints: never a page, never the SPA fallback. */
const API_PATH = /^\/(v1(\/|$)|health$|ready$|metrics$|openapi\.json$)/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Hashed file names never change content: cache for a year. Pages revalidate; unhashed scripts briefly. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const PAGE = 'no-cache';
const SHORT = 'public, max-age=300';

/** The file under `dir` a URL path names, or undefined when it would leave `dir`. */
function inside(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.resolve(dir, `.${path.posix.normalize(`/${decoded}`)}`);
  return file.startsWith(dir + path.sep) ? file : undefined;
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function send(method: string, file: string, cache: string): Promise<Response> {
  const body = await readFile(file);
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  return new Response(method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: { 'Content-Type': type, 'Cache-Control': cache, 'Content-Length': String(body.length) },
  });
}

function notBuilt(): Response {
  return new Response(
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Candor</title></head><body>' +
      '<h1>The dashboard is not built yet</h1><p>Run <code>npm run web:build</code> (or <code>npm start</code>, ' +
      'which builds it) and reload. The API is available under <a href="/openapi.json">/openapi.json</a>.</p>' +
      '</body></html>',
    { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' } },
  );
}

/** Adds the web apps to the router, after every module's routes (so they never shadow an API route). */
export function mountWeb(app: Router, options: WebOptions = {}): void {
  const webDir = path.resolve(options.webDir ?? WEB_DIST);
  const sdkDir = path.resolve(options.sdkDir ?? SDK_DIST);

  app.use('*', async (c, next) => {
    const method = c.req.method;
    const urlPath = c.req.path;
    if ((method !== 'GET' && method !== 'HEAD') || API_PATH.test(urlPath)) return next();

    if (urlPath.startsWith('/sdk/')) {
      const file = inside(sdkDir, urlPath.slice('/sdk'.length));
      return file && (await isFile(file)) ? send(method, file, SHORT) : next();
    }
    if (urlPath.startsWith('/assets/')) {
      const file = inside(webDir, urlPath);
      return file && (await isFile(file)) ? send(method, file, IMMUTABLE) : next();
    }
    if (urlPath === '/chat-widget.js')
      return (await isFile(CHAT_WIDGET)) ? send(method, CHAT_WIDGET, SHORT) : next();
    if (urlPath === '/banner.js') {
      const file = path.join(webDir, 'banner.js');
      return (await isFile(file)) ? send(method, file, SHORT) : next();
    }
    // A missing file (anything with an extension) is a 404, not the dashboard.
    const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
    if (last.includes('.')) return next();
    // Only a browser navigation (which asks for HTML) gets a page for an unknown path; an API client asking
    // for anything else gets the JSON 404, so a mistyped endpoint never looks like a success.
    if (!(c.req.header('accept') ?? '').includes('text/html')) return next();

    const page = urlPath === '/privacy' || urlPath.startsWith('/privacy/') ? 'privacy.html' : 'index.html';
    const file = path.join(webDir, page);
    return (await isFile(file)) ? send(method, file, PAGE) : notBuilt();
  });
}
