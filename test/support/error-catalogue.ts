import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isErrorTable, type ErrorEntry } from '../../shared/src/errors.js'

const root = resolve(import.meta.dirname, '../..')

/** Where code lives that answers with errors; tests and fixtures are not among them. */
const sourceRoots = ['shared/src', 'gateway/src', 'services', 'scripts']

/** Every TypeScript source file below the source roots, relative to the project root. */
function sourceFiles (): string[] {
  return sourceRoots.flatMap((dir) => (readdirSync(resolve(root, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f)))
}

export interface CatalogueEntry extends ErrorEntry {
  /** The module whose table declares the code. */
  module: string
}

/**
 * The catalogue: every table that `defineErrors` made, found in every source module named
 * `errors.ts` (shared's, each service's, the launcher's). Assembled here, on the test side, so
 * that shared never imports a service; a code declared twice appears twice.
 */
export async function loadErrorCatalogue (): Promise<CatalogueEntry[]> {
  const entries: CatalogueEntry[] = []
  for (const file of sourceFiles().filter((f) => f.endsWith('/errors.ts'))) {
    const exports = await import(pathToFileURL(resolve(root, file)).href) as Record<string, unknown>
    for (const table of Object.values(exports).filter(isErrorTable)) {
      for (const entry of Object.values(table)) entries.push({ ...entry, module: file })
    }
  }
  return entries
}

/** Codes of other libraries (Fastify's, undici's) that our code reads but never answers with. */
const foreignPrefixes = ['FST_', 'UND_']

/** Every `<AREA>_ERR_<WHAT>` string literal in the sources, with the files it stands in. */
export function codesInSources (): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const file of sourceFiles()) {
    for (const [, code] of readFileSync(resolve(root, file), 'utf8').matchAll(/['"`]([A-Z0-9]+_ERR_[A-Z0-9_]+)['"`]/g)) {
      if (foreignPrefixes.some((p) => code!.startsWith(p))) continue
      found.set(code!, [...(found.get(code!) ?? []), relative(root, resolve(root, file))])
    }
  }
  return found
}

export interface DocumentedCode { code: string, status: number | undefined, doc: string, line: number }

/** Every table row of docs/*.md that starts with a code: `| \`CODE\` | <status>…`. */
export function documentedCodes (): DocumentedCode[] {
  const rows: DocumentedCode[] = []
  const docs = readdirSync(resolve(root, 'docs')).filter((f) => f.endsWith('.md'))
  for (const doc of docs) {
    for (const [i, line] of readFileSync(resolve(root, 'docs', doc), 'utf8').split('\n').entries()) {
      const m = /^\| `([A-Z0-9]+_ERR_[A-Z0-9_]+)` \| *(\d{3})?/.exec(line)
      if (m !== null) rows.push({ code: m[1]!, status: m[2] === undefined ? undefined : Number(m[2]), doc: `docs/${doc}`, line: i + 1 })
    }
  }
  return rows
}
