import type { Reporter, TestCase } from 'vitest/node'

/**
 * Lists, at the end of a run, every test that passed only on a retry (the integration tier
 * allows one): a timing race hidden by the retry is still a race to fix, so it is said out loud.
 */
export default class RetriesReporter implements Reporter {
  readonly #retried: string[] = []

  onTestCaseResult (testCase: TestCase): void {
    const retries = testCase.diagnostic()?.retryCount ?? 0
    if (retries > 0 && testCase.result().state === 'passed') this.#retried.push(`${testCase.module.moduleId.replace(process.cwd() + '/', '')} > ${testCase.fullName}`)
  }

  onTestRunEnd (): void {
    if (this.#retried.length === 0) return
    console.log(`\npassed only on a retry (${this.#retried.length}): a race to fix\n${this.#retried.map((t) => `  - ${t}`).join('\n')}`)
  }
}
