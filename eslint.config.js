import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'reports/**'] }),
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  }
]
