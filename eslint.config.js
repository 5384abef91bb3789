import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'reports/**'] }),
  {
    files: ['**/*.ts'],
    rules: {
      // `void promise` marks a deliberately unawaited promise
      'no-void': ['error', { allowAsStatement: true }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  }
]
