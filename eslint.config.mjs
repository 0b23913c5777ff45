// Type-aware lint: floating promises are how a saga step silently never runs.
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers, bottom first: a folder may import from the folders before it, never after it, so the
 * domain and the platform stay free of features and entry points (DESIGN.md, README architecture).
 */
const layers = [
  ['domain'],
  ['platform'],
  ['infra'],
  ['events'],
  ['workflows'],
  ['outbox'],
  ['activities'],
  ['consumers'],
  ['reconciliation'],
  ['api'],
  ['workers'],
  ['versioning'],
  ['cli', 'bench'],
];
const zones = layers.slice(0, -1).flatMap((folders, i) =>
  folders.map((target) => ({
    target: `./${target}`,
    // workflows/ takes only types from activities/ and reconciliation/, which its own rule below enforces.
    from: layers
      .slice(i + 1)
      .flat()
      .filter((f) => !(target === 'workflows' && (f === 'activities' || f === 'reconciliation')))
      .map((f) => `./${f}`),
    message: `${target}/ sits below these folders and may not import them (see the layers in eslint.config.mjs)`,
  })),
);

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test collects these itself; awaiting them at top level would serialise nothing.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Implementations of async ports (database, codec, test doubles of the SDK) often have nothing to await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },
  {
    // Workflow code is replayed: no Node built-ins, clocks or randomness outside the SDK.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'better-sqlite3', 'pg', 'kafkajs', 'pino'],
              message: 'workflow code must stay deterministic',
            },
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'workflows import only types from activities',
            },
            {
              group: ['../reconciliation', '../reconciliation/*'],
              allowTypeImports: true,
              message: 'workflows import only types from reconciliation',
            },
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'process', property: 'env' }],
    },
  },
);
