import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { candorPlugin } from '../../tools/eslint/layers.js';

// The dependency rules of the architecture are enforced by lint; this proves the rule bites.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { candor: candorPlugin },
      rules: { 'candor/layers': 'error' },
    },
  ],
});

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('layer rules', () => {
  it("fails when a module imports another module's files", async () => {
    const found = await problems(
      'src/modules/ingest/x.ts',
      "import { f } from '../consent/consent.service.ts';",
    );
    expect(found.join()).toMatch(/must not import another module's files/);
  });

  it("allows another module's index.ts and the module's own files", async () => {
    expect(
      await problems('src/modules/ingest/x.ts', "import type { T } from '../privacy/index.ts';"),
    ).toEqual([]);
    expect(await problems('src/modules/ingest/x.ts', "import { g } from './ingest.service.ts';")).toEqual([]);
  });

  it('fails when a lower layer imports a higher one', async () => {
    expect((await problems('src/kernel/x.ts', "import { s } from '../storage/index.ts';")).join()).toMatch(
      /kernel must not/,
    );
    expect(
      (await problems('src/storage/x.ts', "import { m } from '../modules/consent/index.ts';")).join(),
    ).toMatch(/storage must not/);
    expect(
      (await problems('src/modules/consent/x.ts', "import { c } from '../../server/index.ts';")).join(),
    ).toMatch(/modules must not/);
  });

  it('lets the composition root use modules only through their index.ts', async () => {
    expect(await problems('src/server/x.ts', "import { c } from '../modules/consent/index.ts';")).toEqual([]);
    expect(
      (await problems('src/server/x.ts', "import { c } from '../modules/consent/store.ts';")).join(),
    ).toMatch(/through its index.ts/);
  });
});
