// Lint: typescript-eslint's recommended rules everywhere, plus the determinism
// rules for consensus code (chain/ and modules/ state transitions): no clocks,
// randomness, environment or float parsing. Drivers and the read side
// (api, devnet, cli, abci, verify, oracle price sources) may read clocks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const banned = [
  { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'consensus code: no randomness (use block data)' },
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'consensus code: no clock (use ctx.timeNs)' },
  { selector: "NewExpression[callee.name='Date']", message: 'consensus code: no clock (use ctx.timeNs)' },
  { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'consensus code: no environment' },
  { selector: "CallExpression[callee.name='parseFloat']", message: 'consensus code: no floating point for money' },
  { selector: "MemberExpression[object.name='performance'][property.name='now']", message: 'consensus code: no clock' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'proto/gen/**', '.perpchain/**', 'sim-out/**', 'coverage/**', '.rel-tmp/**', 'web/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['chain/**/*.ts', 'modules/**/*.ts'],
    ignores: ['chain/api/**', 'chain/devnet/**', 'chain/cli/**', 'chain/abci/**', 'chain/verify/**', 'chain/oracle/sources.ts', '**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', ...banned] },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
);
