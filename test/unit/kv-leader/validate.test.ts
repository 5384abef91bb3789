import { describe, expect, it } from 'vitest'
import { ClusterError } from '../../../shared/src/errors.js'
import { ReplicationLog } from '../../../services/kv-leader/src/core/log.js'
import { maxKeyBytes, maxValueBytes, parseIfMatch, parseIfNoneMatch, validateKey, validateValue } from '../../../services/kv-leader/src/core/validate.js'
import { kvError } from '../../../services/kv-leader/src/errors.js'

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof ClusterError ? `${err.code}/${err.statusCode}` : 'other'
  }
  return undefined
}

describe('kv-leader input rules', () => {
  it.each([
    ['k1', undefined],
    ['a.b_c:d~e-f', undefined],
    ['k'.repeat(maxKeyBytes), undefined],
    ['k'.repeat(maxKeyBytes + 1), 'KVL_ERR_BAD_KEY/400'],
    ['', 'KVL_ERR_BAD_KEY/400'],
    ['a b', 'KVL_ERR_BAD_KEY/400'],
    ['a/b', 'KVL_ERR_BAD_KEY/400'],
    ['é', 'KVL_ERR_BAD_KEY/400']
  ])('key %j → %s', (key, expected) => {
    expect(codeOf(() => validateKey(key))).toBe(expected)
  })

  it('values up to 1 MiB', () => {
    expect(codeOf(() => validateValue(Buffer.alloc(maxValueBytes)))).toBeUndefined()
    expect(codeOf(() => validateValue(Buffer.alloc(maxValueBytes + 1)))).toBe('KVL_ERR_VALUE_TOO_LARGE/413')
  })

  it.each<[string | string[] | undefined, 'any' | number[] | undefined]>([
    [undefined, undefined],
    ['"12"', [12]],
    ['*', 'any'],
    // a list (RFC 9110 §13.1.1), with or without spaces, and over repeated header lines
    ['"1", "2"', [1, 2]],
    ['"1","2" ,"3"', [1, 2, 3]],
    [['"1"', '"2"'], [1, 2]],
    // If-Match compares strongly: a weak tag is valid but never matches
    ['W/"7"', []],
    ['W/"7", "8"', [8]],
    // a well-formed tag that is not one of our versions matches nothing (412, not 400)
    ['"abc"', []]
  ])('If-Match %j → %j', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected)
  })

  it('If-None-Match compares weakly: W/"7" names version 7', () => {
    expect(parseIfNoneMatch('W/"7", "8"')).toEqual([7, 8])
    expect(parseIfNoneMatch('*')).toBe('any')
  })

  it.each(['12', '"12', '"1" "2"', ',', 'W/12', '"a"b"'])('refuses a malformed If-Match %j with 400', (header) => {
    expect(codeOf(() => parseIfMatch(header))).toBe('KVL_ERR_BAD_IF_MATCH/400')
  })

  it('log slices respect the entry and byte budgets and find the start of an epoch run', () => {
    const log = new ReplicationLog()
    for (let i = 1; i <= 10; i++) log.append({ index: i, epoch: i <= 4 ? 1 : 2, op: 'put', key: 'k', value: Buffer.alloc(100) })
    expect(log.slice(1, 3).map((e) => e.index)).toEqual([1, 2, 3])
    expect(log.slice(1, 100, 250).map((e) => e.index)).toEqual([1, 2])
    expect(log.slice(1, 100, 10)).toHaveLength(1)
    expect(log.firstIndexOfEpochAt(8)).toBe(5)
    expect(() => log.append({ index: 12, epoch: 2, op: 'noop' })).toThrow(/gap/)
    log.truncateFrom(6)
    expect(log.lastIndex).toBe(5)
    log.compactTo(3)
    expect([log.base, log.baseEpoch, log.lastIndex, log.length]).toEqual([3, 1, 5, 2])
    expect(log.epochAt(3)).toBe(1)
    expect(log.epochAt(2)).toBeUndefined()
    expect(log.entry(3)).toBeUndefined()
    expect(log.slice(1, 10).map((e) => e.index)).toEqual([4, 5])
    expect(log.firstIndexOfEpochAt(5)).toBe(5)
    expect(() => log.truncateFrom(3)).toThrow(/compacted/)
    log.resetTo(20, 3)
    expect([log.lastIndex, log.lastEpoch, log.length]).toEqual([20, 3, 0])
  })

  it('says "retry" for a 503 that was not done, never for an outcome unknown', () => {
    expect(kvError('KVL_ERR_NO_QUORUM', 'x').retryable).toBe(true)
    expect(kvError('KVL_ERR_BAD_KEY', 'x').retryable).toBe(false)
    expect(kvError('KVL_ERR_OUTCOME_UNKNOWN', 'x').retryable).toBe(false)
  })
})
