import { describe, expect, it } from 'vitest'
import { checkHistory, checkKey, describeViolation, narrowUnknown, type RegisterOp } from '../../../scripts/chaos/core/linearizability.js'

let nextId = 0
const w = (value: string, invoke: number, complete?: number, key = 'k'): RegisterOp => ({ id: nextId++, key, kind: 'write', value, invoke, complete })
const r = (output: string | null, invoke: number, complete?: number, key = 'k'): RegisterOp => ({ id: nextId++, key, kind: 'read', output, invoke, complete })
const d = (invoke: number, complete?: number, found?: boolean, key = 'k'): RegisterOp => ({ id: nextId++, key, kind: 'delete', found, invoke, complete })

describe('linearizability (Wing–Gong/Lowe over a register)', () => {
  it('accepts a sequential history that follows the register', () => {
    expect(checkKey('k', [r(null, 0, 1), w('a', 2, 3), r('a', 4, 5), d(6, 7, true), r(null, 8, 9), d(10, 11, false)]).result).toBe('linearizable')
  })

  it('accepts a read of either value while a write overlaps it', () => {
    // write b runs from 10 to 30; reads inside it may see a or b, but once b is seen, never a again
    const base = [w('a', 0, 5), w('b', 10, 30)]
    expect(checkKey('k', [...base, r('a', 12, 14), r('b', 16, 18)]).result).toBe('linearizable')
    expect(checkKey('k', [...base, r('b', 12, 14), r('a', 16, 18)]).result).toBe('violation')
  })

  it('accepts concurrent writes seen in one order by every reader', () => {
    const h = [w('a', 0, 20), w('b', 0, 20), r('b', 21, 22), r('b', 23, 24)]
    expect(checkKey('k', h).result).toBe('linearizable')
    expect(checkKey('k', [...h.slice(0, 2), r('a', 21, 22), r('b', 23, 24)]).result).toBe('violation')
  })

  it('finds a stale read: a value overwritten by an acknowledged write', () => {
    const v = checkKey('k', [w('a', 0, 1), w('b', 2, 3), r('a', 4, 5)])
    expect(v.result).toBe('violation')
    if (v.result === 'violation') {
      expect(v.stuck.kind).toBe('read')
      expect(describeViolation(v)).toContain('read → "a"')
    }
  })

  it('finds a lost acknowledged write', () => {
    expect(checkKey('k', [w('a', 0, 1), r(null, 2, 3)]).result).toBe('violation')
  })

  it('finds a value nobody wrote', () => {
    expect(checkKey('k', [w('a', 0, 1), r('x', 2, 3)]).result).toBe('violation')
  })

  it('treats a timed-out write as possibly applied, at any time after its call', () => {
    expect(checkKey('k', [w('a', 0, 1), w('b', 2), r('b', 50, 51)]).result).toBe('linearizable')
    // ... or never applied
    expect(checkKey('k', [w('a', 0, 1), w('b', 2), r('a', 50, 51)]).result).toBe('linearizable')
    // but not before it was sent
    expect(checkKey('k', [r('b', 0, 1), w('b', 2)]).result).toBe('violation')
    // and once seen, it stays
    expect(checkKey('k', [w('a', 0, 1), w('b', 2), r('b', 50, 51), r('a', 52, 53)]).result).toBe('violation')
  })

  it('treats a timed-out delete the same way, and ignores a read whose outcome is unknown', () => {
    expect(checkKey('k', [w('a', 0, 1), d(2), r(null, 3, 4), r(null, 5, 6)]).result).toBe('linearizable')
    expect(checkKey('k', [w('a', 0, 1), d(2), r('a', 3, 4)]).result).toBe('linearizable')
    expect(checkKey('k', [w('a', 0, 1), r('zzz', 2)]).result).toBe('linearizable')
  })

  it('checks what a delete said about the key', () => {
    expect(checkKey('k', [w('a', 0, 1), d(2, 3, false)]).result).toBe('violation')
    expect(checkKey('k', [d(0, 1, true)]).result).toBe('violation')
  })

  it('counts operations on the same clock tick as concurrent', () => {
    expect(checkKey('k', [w('a', 0, 10), r(null, 10, 11)]).result).toBe('linearizable')
  })

  it('checks each key on its own (locality) and reports the key that breaks', () => {
    const h = [w('a', 0, 1, 'x'), r('a', 2, 3, 'x'), w('a', 0, 1, 'y'), r(null, 2, 3, 'y')]
    const v = checkHistory(h)
    expect(v.ok).toBe(false)
    expect(v.keys).toBe(2)
    expect(v.violations.map((x) => x.key)).toEqual(['y'])
  })

  it('copes with many overlapping operations thanks to memoisation', () => {
    // 14 writes all concurrent, then reads that pin the last one: 14! orders without the cache
    const h: RegisterOp[] = []
    for (let i = 0; i < 14; i++) h.push(w(`v${i}`, 0, 100))
    h.push(r('v7', 101, 102), r('v7', 103, 104))
    expect(checkKey('k', h).result).toBe('linearizable')
    h.push(r('v3', 105, 106))
    expect(checkKey('k', h).result).toBe('violation')
  })

  it('gives up as inconclusive past its step budget', () => {
    const h: RegisterOp[] = []
    for (let i = 0; i < 12; i++) h.push(w(`v${i}`, 0, 100))
    h.push(r('nope', 101, 102))
    expect(checkKey('k', h, { maxSteps: 50 }).result).toBe('inconclusive')
  })

  it('handles a long real-looking history quickly', () => {
    const h: RegisterOp[] = []
    let t = 0
    let last: string | null = null
    for (let i = 0; i < 3_000; i++) {
      // a few in flight at once: write i overlaps read i
      const value = `v${i}`
      h.push(w(value, t, t + 3), r(i % 2 === 0 ? last : value, t + 1, t + 4))
      if (i % 2 === 1) last = value
      else last = value
      t += 5
    }
    const started = Date.now()
    expect(checkKey('k', h).result).toBe('linearizable')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('narrows unknown operations: a write seen by a read completes by then, unobserved ones go', () => {
    const seenLater = w('b', 10)
    const unseen = w('c', 11)
    const unseenDelete = d(12)
    const h = [w('a', 0, 1), seenLater, unseen, unseenDelete, r('b', 20, 30), r('b', 40, 50)]
    const narrowed = narrowUnknown(h)
    expect(narrowed.find((op) => op.id === seenLater.id)?.complete).toBe(30)
    expect(narrowed.some((op) => op.id === unseen.id || op.id === unseenDelete.id)).toBe(false)
    // kept when something could depend on them
    expect(narrowUnknown([w('c', 11), d(20, 21, true)]).length).toBe(2)
    expect(narrowUnknown([w('a', 0, 1), d(5), r(null, 6, 7)]).length).toBe(3)
  })

  it('falls back to ignoring what deletes answered when the strict search is too large, and says so', () => {
    // many concurrent unknown writes nobody read, kept alive by a later delete that found the key
    const h: RegisterOp[] = [w('a', 0, 1)]
    for (let i = 0; i < 16; i++) h.push(w(`u${i}`, 2 + i))
    h.push(r('a', 3, 4), d(100, 101, true), r(null, 102, 103))
    const v = checkKey('k', h, { maxSteps: 12 })
    expect(checkKey('k', h).result).toBe('linearizable')
    expect(v).toMatchObject({ result: 'linearizable', relaxedDeletes: true })
    expect(checkKey('k', [...h, r('zz', 104, 105)], { maxSteps: 12 }).result).toBe('violation')
  })
})
