import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { registerOps, type OpRecord } from '../../../scripts/chaos/core/history.js'
import { kvLeaderOutcome } from '../../../scripts/chaos/core/kv-contract.js'
import { checkHistory, describeViolation } from '../../../scripts/chaos/core/linearizability.js'

/** Histories recorded by chaos runs that caught kv-leader's dirty reads (test/fixtures/chaos/README.md). */
function recorded (name: string): OpRecord[] {
  const text = gunzipSync(readFileSync(join(import.meta.dirname, '../../fixtures/chaos', name))).toString('utf8')
  return text.trim().split('\n').map((line) => JSON.parse(line) as OpRecord)
}

describe('recorded violations (regression fixtures)', () => {
  it.each([
    ['seed22-violation.history.jsonl.gz', 'chaos-m0p8qt-0', 7_204],
    ['seed44-violation.history.jsonl.gz', 'chaos-180udzj-1', 5_404]
  ])('%s is rejected, naming %s', (file, key, records) => {
    const history = recorded(file)
    expect(history).toHaveLength(records)
    const v = checkHistory(registerOps(history))
    expect(v.ok).toBe(false)
    expect(v.inconclusive).toEqual([])
    expect(v.violations.map((x) => x.key)).toContain(key)
    expect(v.violations.map(describeViolation).join('\n')).toContain(`key "${key}"`)
  })

  it.each([
    ['seed22-violation.history.jsonl.gz', ['chaos-m0p8qt-0']],
    ['seed44-violation.history.jsonl.gz', ['chaos-180udzj-1']]
  ])('%s is rejected also when every 503 is read as of unknown outcome (what the old kv-leader promised)', (file, keys) => {
    const oldReading: typeof kvLeaderOutcome = (method, status, code) => status === 503 ? { kind: 'unknown' } : kvLeaderOutcome(method, status, code)
    expect(checkHistory(registerOps(recorded(file), oldReading)).violations.map((x) => x.key)).toEqual(keys)
  })

  it('seed 44 is rejected on the DELETE that answered 404 while the key held a value', () => {
    const v = checkHistory(registerOps(recorded('seed44-violation.history.jsonl.gz')))
    const bad = v.violations.find((x) => x.key === 'chaos-180udzj-1')!
    expect(bad.stuck).toMatchObject({ kind: 'delete', found: false })
  })
})
