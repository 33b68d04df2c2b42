import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { candorPlugin } from './tools/eslint/layers.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.tools/',
      '.candor-data/',
      'sdk/dist/',
      'web/dist/',
      'coverage/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { candor: candorPlugin },
    rules: {
      'candor/layers': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message:
            'Read configuration through src/kernel/config.ts, the only place that touches process.env.',
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The config module is the one place that reads the environment; tooling configs and bench/test
    // harnesses that spawn processes may too.
    files: ['src/kernel/config.ts', 'test/**', 'bench/**', '*.config.ts', '*.config.js', 'scripts/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportDefaultDeclaration[declaration.type!="CallExpression"]',
          message: 'Use named exports.',
        },
      ],
    },
  },
  {
    files: ['*.config.ts', '*.config.js', 'tools/**/*.js', 'scripts/**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-restricted-syntax': 'off' },
  },
  {
    // The `candor` launcher: plain JavaScript that only imports the TypeScript CLI.
    files: ['bin/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false }, globals: { process: 'readonly' } },
  },
  {
    // The chat widget: plain browser JavaScript served as-is (one script tag, no build step).
    files: ['web/chat-widget/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'URL', 'btoa', 'setTimeout', 'crypto'].map((g) => [
          g,
          'readonly',
        ]),
      ),
    },
  },
  {
    files: ['scripts/**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly' } },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
