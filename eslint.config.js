import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import neostandard from 'neostandard'

/**
 * The import direction (STYLE.md, issue 16): gateway and services build on shared; scripts and
 * tests may use anything; shared uses nothing above it; a service uses no other service and no
 * gateway code, and the gateway no service code.
 */
const layers = [
  { target: './shared', from: ['./gateway', './services', './scripts', './test', './topology.ts'], message: 'shared imports nothing above it' },
  { target: './gateway', from: ['./services', './scripts', './test'], message: 'the gateway builds on shared (and the topology) only' },
  { target: './services', from: ['./gateway', './scripts', './test', './topology.ts'], message: 'a service builds on shared only' },
  ...['compute', 'echo', 'feed', 'kv-leader', 'kv-quorum', 'ledger', 'sink'].map((name) => ({
    target: `./services/${name}`,
    from: './services',
    except: [`./${name}`],
    message: 'a service does not import another service'
  }))
]

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'reports/**'] }),
  {
    files: ['**/*.ts'],
    languageOptions: {
      // type-aware rules (no-floating-promises) read the types through the TypeScript project service
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    plugins: { 'import-x': importX },
    settings: {
      // no-cycle parses each imported module: with the TypeScript parser
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
      // sources import './x.js' for './x.ts' (NodeNext)
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } })]
    },
    rules: {
      // `void promise` marks a deliberately unawaited promise
      'no-void': ['error', { allowAsStatement: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layers }]
    }
  }
]
