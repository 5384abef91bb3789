import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { cgroupQuota, coresAvailable } from '../../../services/compute/src/adapters/cores.js'
import { countPrimes } from '../../../services/compute/src/core/primes.js'
import { maxPrimesLimit, parseTask, runTask, taskKey } from '../../../services/compute/src/core/tasks.js'
import { parseIdempotencyKey, parseSubmission, jobFromHash } from '../../../services/compute/src/jobs/job.js'

describe('compute tasks', () => {
  it.each([[0, 0], [1, 0], [2, 1], [3, 2], [10, 4], [100, 25], [1_000, 168], [7_919, 1_000], [10_000, 1_229], [100_000, 9_592], [1_000_000, 78_498], [5_000_000, 348_513]])('π(%i) = %i', (limit, count) => {
    expect(countPrimes(limit)).toBe(count)
  })

  it('hashes iteratively', () => {
    const once = createHash('sha256').update('nines').digest()
    const twice = createHash('sha256').update(once).digest('hex')
    expect(runTask({ task: 'hash', params: { rounds: 1, input: 'nines' } })).toEqual({ digest: once.toString('hex') })
    expect(runTask({ task: 'hash', params: { rounds: 2, input: 'nines' } })).toEqual({ digest: twice })
  })

  it('validates params from a query string or a JSON body', () => {
    expect(parseTask('primes', { limit: '100' })).toEqual({ task: 'primes', params: { limit: 100 } })
    expect(parseTask('primes', { limit: 100 })).toEqual({ task: 'primes', params: { limit: 100 } })
    expect(parseTask('hash', { rounds: '5' })).toEqual({ task: 'hash', params: { rounds: 5, input: 'nines' } })
  })

  it.each([
    ['primes', {}, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: 'abc' }, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: '-5' }, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: '0' }, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: String(maxPrimesLimit + 1) }, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: 1.5 }, 'COMPUTE_ERR_BAD_PARAM'],
    ['primes', { limit: ['1', '2'] }, 'COMPUTE_ERR_BAD_PARAM'],
    ['hash', { rounds: '1', input: 'x'.repeat(300) }, 'COMPUTE_ERR_BAD_PARAM'],
    ['fibonacci', { n: 1 }, 'COMPUTE_ERR_UNKNOWN_TASK'],
    ['primes', 'limit=5', 'COMPUTE_ERR_BAD_PARAM']
  ])('rejects %s %j with %s (400)', (task, params, code) => {
    try {
      parseTask(task, params)
      expect.fail('should have thrown')
    } catch (err) {
      expect((err as { code: string }).code).toBe(code)
      expect((err as { statusCode: number }).statusCode).toBe(400)
    }
  })

  it('keys normalized requests', () => {
    expect(taskKey(parseTask('primes', { limit: '0010' }))).toBe('primes:limit=10')
    expect(taskKey(parseTask('hash', { rounds: '3', input: 'a:b' }))).toBe('hash:rounds=3:input=a%3Ab')
  })

  it('bounds job submissions', () => {
    expect(parseSubmission({ task: 'primes', params: { limit: 10 } })).toEqual({ task: 'primes', params: { limit: 10 } })
    expect(() => parseSubmission({ task: 'primes', params: { limit: 10, pad: 'x'.repeat(5_000) } })).toThrow(/bytes/)
    expect(() => parseSubmission([])).toThrow(/JSON object/)
    expect(parseIdempotencyKey(undefined)).toBeUndefined()
    expect(parseIdempotencyKey('order-42')).toBe('order-42')
    expect(() => parseIdempotencyKey('bad key!')).toThrow(/Idempotency-Key/)
  })

  it('reads job records back', () => {
    expect(jobFromHash({})).toBeUndefined()
    expect(jobFromHash({ id: 'j', status: 'done', task: 'primes', params: '{"limit":10}', attempts: '1', createdAt: '1', updatedAt: '2', result: '{"count":4}' }))
      .toEqual({ id: 'j', status: 'done', task: 'primes', params: { limit: 10 }, attempts: 1, createdAt: 1, updatedAt: 2, result: { count: 4 } })
  })
})

describe('cores available', () => {
  it.each([
    ['max 100000', undefined, undefined, undefined],
    ['200000 100000', undefined, undefined, 2],
    ['150000 100000', undefined, undefined, 1.5],
    [undefined, '-1', '100000', undefined],
    [undefined, '400000', '100000', 4],
    [undefined, undefined, undefined, undefined]
  ])('cpu.max %s / v1 %s %s → %s CPUs', (v2, q, p, expected) => {
    expect(cgroupQuota(v2, q, p)).toBe(expected)
  })

  it('never exceeds the CPUs it may run on, nor goes below 1', () => {
    expect(coresAvailable(() => undefined)).toBe(availableParallelism())
    expect(coresAvailable((path) => path.endsWith('cpu.max') ? '1000 100000' : undefined)).toBe(1)
    expect(coresAvailable((path) => path.endsWith('cpu.max') ? '100000000 100000' : undefined)).toBe(availableParallelism())
  })
})
