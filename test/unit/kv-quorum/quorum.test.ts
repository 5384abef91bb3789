import { describe, expect, it } from 'vitest'
import { overlaps, quorumProblems, requestQuorum, type Quorum } from '../../../services/kv-quorum/src/core/quorum.js'

const defaults: Quorum = { n: 3, w: 2, r: 2, consistency: 'quorum' }

describe('quorum arithmetic', () => {
  it.each([
    [3, 2, 2, true], [3, 3, 1, true], [3, 1, 3, true], [3, 1, 2, false], [3, 1, 1, false], [5, 3, 3, true], [5, 3, 2, false]
  ])('N=%i W=%i R=%i overlaps: %s', (n, w, r, ok) => {
    expect(overlaps({ n, w, r })).toBe(ok)
  })

  it('refuses a weak configuration unless eventual', () => {
    expect(quorumProblems({ n: 3, w: 1, r: 2, consistency: 'quorum' })).toEqual([{ kind: 'overlap', w: 1, r: 2, n: 3 }])
    expect(quorumProblems({ n: 3, w: 1, r: 2, consistency: 'eventual' })).toEqual([])
    expect(quorumProblems({ n: 3, w: 4, r: 0, consistency: 'eventual' }).map((p) => p.kind)).toEqual(['range', 'range'])
  })
})

describe('requestQuorum', () => {
  it('takes the defaults', () => {
    expect(requestQuorum({}, defaults)).toEqual({ quorum: defaults })
  })

  it.each([
    [{ w: '3', r: '1' }, { n: 3, w: 3, r: 1, consistency: 'quorum' }],
    [{ w: '1', r: '1', consistency: 'eventual' }, { n: 3, w: 1, r: 1, consistency: 'eventual' }],
    [{ r: '3' }, { n: 3, w: 2, r: 3, consistency: 'quorum' }]
  ])('accepts %j', (query, quorum) => {
    expect(requestQuorum(query, defaults)).toEqual({ quorum })
  })

  it.each([
    [{ w: '4' }, 'range'],
    [{ w: '0' }, 'range'],
    [{ r: '-1' }, 'range'],
    [{ w: '2.5' }, 'range'],
    [{ w: ['1', '2'] }, 'range'],
    [{ w: '1' }, 'overlap'],
    [{ r: '1' }, 'overlap'],
    [{ w: '1', consistency: 'strong' }, 'consistency']
  ])('refuses %j (%s)', (query, kind) => {
    const out = requestQuorum(query as Record<string, unknown>, defaults)
    expect('problems' in out && out.problems.map((p) => p.kind)).toContain(kind)
  })
})
