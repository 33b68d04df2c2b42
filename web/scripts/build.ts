/**
 * `npm run web:build`: the dashboard and privacy centre (Vite) and the consent banner (esbuild, one tiny
 * IIFE) into web/dist. Skips the work when web/dist is newer than every source file, so `npm start` and the
 * e2e setup stay fast; `--force` rebuilds anyway.
 */
import { build as esbuild } from 'esbuild';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';
import { writeSdk } from '../../sdk/scripts/build.ts';

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = path.join(WEB_DIR, 'dist');
const STAMP = path.join(DIST_DIR, '.build-stamp');
/** What the build reads: any change here (or to the role table the dashboard imports) means a rebuild. */
const INPUTS = [
  'src',
  'banner',
  'index.html',
  'privacy.html',
  'scripts/build.ts',
  '../src/modules/auth/permissions.ts',
  // The banner and the shop pages load the tracking SDK from /sdk/: it is built with the web apps.
  '../sdk/src',
  '../sdk/scripts/build.ts',
];
const SDK_BUNDLE = path.join(WEB_DIR, '../sdk/dist/candor.iife.js');

async function newest(p: string): Promise<number> {
  const s = await stat(p).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const e of await readdir(p)) max = Math.max(max, await newest(path.join(p, e)));
  return max;
}

export async function isFresh(): Promise<boolean> {
  const built = (await stat(STAMP).catch(() => undefined))?.mtimeMs ?? 0;
  if (built === 0) return false;
  if (!(await stat(SDK_BUNDLE).catch(() => undefined))) return false;
  for (const i of INPUTS) if ((await newest(path.join(WEB_DIR, i))) > built) return false;
  return true;
}

export async function buildBanner(): Promise<number> {
  const out = await esbuild({
    entryPoints: [path.join(WEB_DIR, 'banner/banner.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2019',
    platform: 'browser',
    legalComments: 'none',
    write: false,
  });
  const code = out.outputFiles[0]!.text;
  await mkdir(DIST_DIR, { recursive: true });
  await writeFile(path.join(DIST_DIR, 'banner.js'), code);
  return code.length;
}

/**
 * Two pages from one Vite build: the staff dashboard (/) and the shopper privacy centre (/privacy). No
 * inline scripts or styles anywhere, so the server's strict CSP (script-src 'self') holds.
 */
export function viteConfig(): InlineConfig {
  return {
    configFile: false,
    root: WEB_DIR,
    base: '/',
    logLevel: 'warn',
    oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
    build: {
      outDir: DIST_DIR,
      emptyOutDir: true,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      sourcemap: false,
      target: 'es2022',
      rollupOptions: {
        input: {
          dashboard: path.join(WEB_DIR, 'index.html'),
          privacy: path.join(WEB_DIR, 'privacy.html'),
        },
      },
    },
  };
}

export async function buildWeb(options: { force?: boolean } = {}): Promise<{ built: boolean }> {
  if (!options.force && (await isFresh())) return { built: false };
  // Imported lazily: a fresh build never pays for loading Vite.
  const { build } = await import('vite');
  await build(viteConfig());
  await buildBanner();
  await writeSdk();
  await writeFile(STAMP, new Date().toISOString());
  return { built: true };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { built } = await buildWeb({ force: process.argv.includes('--force') });
  const ms = Math.round(performance.now() - started);
  console.log(built ? `web/dist built in ${ms} ms` : 'web/dist is up to date');
}
