// `npm run bench -- <name> [args]`: runs bench/<name>.ts, which records bench/results/<name>.json.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const here = import.meta.dirname;
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'support.ts'].includes(f) && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !existsSync(path.join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--expose-gc', path.join(here, `${name}.ts`), ...args], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
