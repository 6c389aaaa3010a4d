// Lint rules that catch what kills servers (floating promises, non-exhaustive switches)
// and keep the folder layering honest: structs <- consensus, scheduler, drivers <- agent;
// cli and api speak HTTP only and never reach into the server.
import tseslint from 'typescript-eslint';

/** Folders a folder must not import from, per ARCHITECTURE.md's dependency rules. */
const forbidden = {
  structs: ['consensus', 'scheduler', 'drivers', 'agent', 'cli', 'api'],
  consensus: ['scheduler', 'drivers', 'agent', 'cli', 'api'],
  scheduler: ['consensus', 'drivers', 'agent', 'cli', 'api'],
  drivers: ['consensus', 'scheduler', 'agent', 'cli', 'api'],
  api: ['consensus', 'scheduler', 'drivers', 'agent', 'cli'],
  cli: ['consensus', 'scheduler', 'drivers', 'agent'],
  agent: ['cli'],
};

const boundaryConfigs = Object.entries(forbidden).map(([folder, banned]) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((b) => ({
          group: [`**/${b}/*`, `**/${b}/**`],
          message: `${folder}/ must not import from ${b}/ (see ARCHITECTURE.md, "Rules that keep it simple").`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/testdata/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['consensus/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'lmdb', 'ws', 'msgpackr', 'pino'], message: 'consensus/core is pure: no I/O imports.' },
            { group: ['**/agent/**', '**/scheduler/**', '**/drivers/**', '**/cli/**', '**/api/**'], message: 'consensus/core imports nothing of the project but structs.' },
          ],
        },
      ],
    },
  },
  ...boundaryConfigs,
  {
    files: ['**/*.test.ts', 'bench/**/*.ts', 'e2e/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
