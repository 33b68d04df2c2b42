import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeSdk } from './build.ts';

/** The IIFE build a shop loads with one script tag must stay this small, gzipped. */
export const BUDGET_BYTES = 5 * 1024;

export type SizeRow = { file: string; raw: number; gzip: number };

/** Builds both bundles into sdk/dist and measures them; the first row is the IIFE build. */
export async function measureSdk(): Promise<SizeRow[]> {
  const { iife, esm } = await writeSdk();
  return [
    { file: 'sdk/dist/candor.iife.js', raw: iife.length, gzip: gzipSync(iife, { level: 9 }).length },
    { file: 'sdk/dist/candor.esm.js', raw: esm.length, gzip: gzipSync(esm, { level: 9 }).length },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await measureSdk();
  for (const row of rows) console.log(`${row.file}  ${row.raw} B  ${row.gzip} B gzipped`);
  const gz = rows[0]!.gzip;
  if (gz > BUDGET_BYTES) {
    console.error(`over budget: the IIFE build is ${gz} B gzipped, the budget is ${BUDGET_BYTES} B`);
    process.exit(1);
  }
  console.log(`within budget: ${gz} of ${BUDGET_BYTES} B gzipped`);
}
