/**
 * Scoring of a cache-tests run (the public HTTP cache conformance suite, cache-tests.fyi) the
 * way its result pages read it: a test of kind `required` (or no kind) that fails is a MUST
 * failure, `optimal` ones are optimisations, `check` ones only describe behaviour; a test whose
 * dependencies did not pass, or whose setup failed, is not scored. Pure.
 */

export interface SuiteTest {
  id: string
  kind?: 'required' | 'optimal' | 'check'
  depends_on?: string[]
  browser_only?: boolean
}

export interface Suite { id: string, tests: SuiteTest[] }

/** One test's raw result: true, or [error name, message] (`Setup` for a setup failure). */
export type RawResult = true | [string, string]

export type Verdict = 'pass' | 'fail' | 'optional-fail' | 'yes' | 'no' | 'setup-fail' | 'dependency-fail' | 'untested'

export function verdict (tests: ReadonlyMap<string, SuiteTest>, results: Readonly<Record<string, RawResult>>, id: string, seen = new Set<string>()): Verdict {
  const test = tests.get(id)
  const result = results[id]
  if (test === undefined || result === undefined) return 'untested'
  if (!seen.has(id)) {
    seen.add(id)
    for (const dependency of test.depends_on ?? []) {
      const v = verdict(tests, results, dependency, seen)
      if (v !== 'pass' && v !== 'yes') return 'dependency-fail'
    }
  }
  if (result !== true && result[0] === 'Setup') return 'setup-fail'
  const kind = test.kind ?? 'required'
  if (kind === 'check') return result === true ? 'yes' : 'no'
  if (result === true) return 'pass'
  return kind === 'optimal' ? 'optional-fail' : 'fail'
}

export interface Score {
  /** Scored tests (required and optimal ones that ran and were not dependency or setup failures). */
  scored: number
  passed: number
  mustFailures: string[]
  optionalFailures: string[]
  counts: Record<Verdict, number>
}

export function score (suites: readonly Suite[], results: Readonly<Record<string, RawResult>>): Score {
  const tests = new Map<string, SuiteTest>()
  for (const suite of suites) for (const test of suite.tests) if (test.browser_only !== true) tests.set(test.id, test)
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, 'optional-fail': 0, yes: 0, no: 0, 'setup-fail': 0, 'dependency-fail': 0, untested: 0 }
  const mustFailures: string[] = []
  const optionalFailures: string[] = []
  for (const id of tests.keys()) {
    const v = verdict(tests, results, id)
    counts[v]++
    if (v === 'fail') mustFailures.push(id)
    if (v === 'optional-fail') optionalFailures.push(id)
  }
  return { scored: counts.pass + counts.fail + counts['optional-fail'], passed: counts.pass, mustFailures, optionalFailures, counts }
}
