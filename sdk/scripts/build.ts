import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type SdkBuild = { iife: string; esm: string };

/** Builds both bundles in memory: the IIFE for the script tag (`window.candor`) and the ESM for `npm i`. */
export async function buildSdk(): Promise<SdkBuild> {
  const common = {
    bundle: true,
    minify: true,
    write: false,
    target: 'es2019',
    platform: 'browser',
    legalComments: 'none',
  } as const;
  const [iife, esm] = await Promise.all([
    build({ ...common, entryPoints: [path.join(SDK_DIR, 'src/iife.ts')], format: 'iife' }),
    build({ ...common, entryPoints: [path.join(SDK_DIR, 'src/index.ts')], format: 'esm' }),
  ]);
  return { iife: iife.outputFiles[0]!.text, esm: esm.outputFiles[0]!.text };
}

/** Builds and writes `sdk/dist/candor.iife.js` and `sdk/dist/candor.esm.js`. */
export async function writeSdk(): Promise<SdkBuild> {
  const out = await buildSdk();
  await mkdir(path.join(SDK_DIR, 'dist'), { recursive: true });
  await writeFile(path.join(SDK_DIR, 'dist/candor.iife.js'), out.iife);
  await writeFile(path.join(SDK_DIR, 'dist/candor.esm.js'), out.esm);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await writeSdk();
  console.log(`sdk/dist/candor.iife.js ${out.iife.length} B, sdk/dist/candor.esm.js ${out.esm.length} B`);
}
