import { describe, expect, it } from 'vitest'
import { score, verdict, type SuiteTest } from '../../../../scripts/cache-tests/summary.js'

describe('scoring a cache-tests run as its result pages do', () => {
  const suite = {
    id: 's',
    tests: [
      { id: 'base', kind: 'check' },
      { id: 'opt', kind: 'optimal', depends_on: ['base'] },
      { id: 'must', depends_on: ['opt'] },
      { id: 'must2' },
      { id: 'setup' },
      { id: 'browser', browser_only: true }
    ] satisfies SuiteTest[]
  }

  it('counts MUST failures, optional failures and unscored ones', () => {
    const s = score([suite], { base: true, opt: true, must: ['Assertion', 'x'], must2: true, setup: ['Setup', 'y'], browser: ['Assertion', 'z'] })
    expect(s).toMatchObject({ scored: 3, passed: 2, mustFailures: ['must'], optionalFailures: [] })
    expect(s.counts).toMatchObject({ yes: 1, 'setup-fail': 1 })
  })

  it('does not score a test whose dependency did not pass', () => {
    const tests = new Map(suite.tests.map((t) => [t.id, t as SuiteTest]))
    expect(verdict(tests, { base: ['Assertion', 'x'], opt: true, must: true }, 'opt')).toBe('dependency-fail')
    expect(verdict(tests, { base: true, opt: ['Assertion', 'x'], must: true }, 'must')).toBe('dependency-fail')
    expect(verdict(tests, { base: true, opt: ['Assertion', 'x'] }, 'opt')).toBe('optional-fail')
    expect(verdict(tests, {}, 'must')).toBe('untested')
  })
})
