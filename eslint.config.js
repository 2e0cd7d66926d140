// Lint as a net (see STYLE.md): type-aware rules that refuse the bug classes that have bitten
// us — a promise nobody awaits, a promise where a callback is expected, and type assertions
// (`as never`, `as any`) that silence the checker where it was right.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it/test return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error',
        { selector: 'TSAsExpression > TSNeverKeyword', message: '`as never` hides type errors: give the value its real type.' },
        { selector: 'TSAsExpression > TSAnyKeyword', message: '`as any` hides type errors: give the value its real type.' },
        { selector: 'TSTypeAssertion > TSNeverKeyword', message: '`<never>` hides type errors.' },
        { selector: 'TSTypeAssertion > TSAnyKeyword', message: '`<any>` hides type errors.' },
      ],
    },
  },
  {
    // Tests read JSON answers of every shape: `any` is their honest type there, not a silenced error.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
