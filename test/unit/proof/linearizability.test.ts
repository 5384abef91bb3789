import { describe, expect, it } from 'vitest'
import { checkHistory, checkKey, describeInconclusive, describeViolation, type KeyVerdict, type RegisterOp } from '../../../scripts/chaos/core/linearizability.js'
import type { Precondition } from '../../../scripts/chaos/core/register.js'
import { prepareKey } from '../../../scripts/chaos/core/unknown-outcomes.js'
import { seededRandom } from '../../../shared/testing/random.js'

let nextId = 0
interface Extra { key?: string, ifMatch?: Precondition, created?: boolean, failed?: boolean }
const w = (value: string, invoke: number, complete?: number, x: Extra = {}): RegisterOp => ({
  id: nextId++,
  key: x.key ?? 'k',
  kind: 'write',
  value,
  invoke,
  complete,
  ...(x.ifMatch !== undefined ? { ifMatch: x.ifMatch } : {}),
  ...(x.created !== undefined ? { created: x.created } : {}),
  ...(x.failed === true ? { preconditionFailed: true } : {})
})
const r = (output: string | null, invoke: number, complete?: number, key = 'k'): RegisterOp => ({ id: nextId++, key, kind: 'read', output, invoke, complete })
const d = (invoke: number, complete?: number, found?: boolean, x: Extra = {}): RegisterOp => ({
  id: nextId++,
  key: x.key ?? 'k',
  kind: 'delete',
  invoke,
  complete,
  ...(found !== undefined ? { found } : {}),
  ...(x.ifMatch !== undefined ? { ifMatch: x.ifMatch } : {}),
  ...(x.failed === true ? { preconditionFailed: true } : {})
})
const is = (value: string): Precondition => ({ value })

/** Rejected, with the key named in the verdict and in its description. */
function expectRejected (history: RegisterOp[], key = 'k'): Extract<KeyVerdict, { result: 'violation' }> {
  const v = checkHistory(history)
  expect(v.ok).toBe(false)
  expect(v.violations.map((x) => x.key)).toEqual([key])
  expect(describeViolation(v.violations[0]!)).toContain(`key ${JSON.stringify(key)}`)
  return v.violations[0]!
}
const accepted = (history: RegisterOp[]): string => checkKey('k', history).result

describe('linearizability: forged violations are rejected, naming the key', () => {
  it('a stale read after an acknowledged write', () => {
    const v = expectRejected([w('a', 0, 1), w('b', 2, 3), r('a', 4, 5)])
    expect(v.stuck.kind).toBe('read')
    expect(describeViolation(v)).toContain('read → "a"')
  })

  it('a read of a value never written', () => {
    expectRejected([w('a', 0, 1), r('x', 2, 3)])
  })

  it('a lost acknowledged write', () => {
    expectRejected([w('a', 0, 1), r(null, 2, 3)])
    expectRejected([w('a', 0, 1, { key: 'other' }), r('a', 2, 3, 'other'), w('b', 0, 1, { key: 'lost' }), r(null, 2, 3, 'lost')], 'lost')
  })

  it('a read of a write before it was sent (answered or of unknown outcome)', () => {
    expectRejected([r('b', 0, 1), w('b', 2, 3)])
    expectRejected([r('b', 0, 1), w('b', 2)])
  })

  it('an unknown write seen, overwritten and seen again', () => {
    expectRejected([w('a', 0, 1), w('b', 2), r('b', 10, 11), w('c', 12, 13), r('b', 14, 15)])
    // also when the overwrite is itself of unknown outcome but seen
    expectRejected([w('a', 0, 1), w('b', 2), r('b', 10, 11), w('c', 12), r('c', 14, 15), r('b', 16, 17)])
  })

  it('a DELETE answering 404 right after an acknowledged write', () => {
    expectRejected([w('a', 0, 1), d(2, 3, false)])
  })

  it('a failed If-Match (412) that was applied anyway', () => {
    // the precondition really did not hold (the key held "a"), but "b" shows up
    expectRejected([w('a', 0, 1), w('b', 2, 3, { ifMatch: is('z'), failed: true }), r('b', 4, 5)])
    // a 412 while the precondition held is a violation too
    expectRejected([w('a', 0, 1), w('b', 2, 3, { ifMatch: is('a'), failed: true })])
    expectRejected([w('a', 0, 1), d(2, 3, undefined, { ifMatch: 'any', failed: true })])
    // a DELETE answered 412 that deleted anyway
    expectRejected([w('a', 0, 1), d(2, 3, undefined, { ifMatch: is('z'), failed: true }), r(null, 4, 5)])
  })

  it('a 201 for a key that existed, a 200 for one that did not', () => {
    expectRejected([w('a', 0, 1, { created: true }), w('b', 2, 3, { created: true })])
    expectRejected([w('a', 0, 1, { created: false })])
    expectRejected([w('a', 0, 1), d(2, 3, true), w('b', 4, 5, { created: false })])
  })

  it('a successful If-Match on a value the key did not hold', () => {
    expectRejected([w('a', 0, 1), w('b', 2, 3), w('c', 4, 5, { ifMatch: is('a') })])
    expectRejected([w('c', 4, 5, { ifMatch: 'any' })])
    expectRejected([w('a', 0, 1), w('b', 2, 3), d(4, 5, true, { ifMatch: is('a') })])
  })

  it('the trap: N unknown writes nobody read, an acknowledged write, then a DELETE answering 404, for every N up to 24', () => {
    for (let n = 0; n <= 24; n++) {
      const h: RegisterOp[] = [w('a', 0, 1)]
      for (let i = 0; i < n; i++) h.push(w(`u${i}`, 2 + i))
      h.push(r('a', 3, 4), w('b', 100, 101), d(102, 103, false))
      const v = checkHistory(h)
      expect(v.ok, `N = ${n}`).toBe(false)
      expect(v.violations.map((x) => x.key), `N = ${n}`).toEqual(['k'])
      expect(v.violations[0]!.stuck.kind).toBe('delete')
    }
  })

  it('the trap with the unknown writes kept alive by answers that need the key to exist', () => {
    // every delete that found the key needs one of the unknown writes; one too many is a violation
    const base: RegisterOp[] = [w('a', 0, 1), d(2, 3, true)]
    for (let i = 0; i < 20; i++) base.push(w(`u${i}`, 4 + i))
    const deletes = (n: number): RegisterOp[] => Array.from({ length: n }, (_, i) => d(100 + 2 * i, 101 + 2 * i, true))
    expect(accepted([...base, ...deletes(20)])).toBe('linearizable')
    expectRejected([...base, ...deletes(21)])
  })
})

describe('linearizability: legal histories are accepted', () => {
  it('a sequential history that follows the register', () => {
    expect(accepted([r(null, 0, 1), w('a', 2, 3, { created: true }), r('a', 4, 5), d(6, 7, true), r(null, 8, 9), d(10, 11, false), w('b', 12, 13, { created: true }), w('c', 14, 15, { created: false })])).toBe('linearizable')
  })

  it('a read of either value while a write overlaps it, but never the old one after the new', () => {
    const base = [w('a', 0, 5), w('b', 10, 30)]
    expect(accepted([...base, r('a', 12, 14), r('b', 16, 18)])).toBe('linearizable')
    expect(accepted([...base, r('b', 12, 14), r('a', 16, 18)])).toBe('violation')
  })

  it('concurrent writes seen in one order by every reader', () => {
    const h = [w('a', 0, 20), w('b', 0, 20), r('b', 21, 22), r('b', 23, 24)]
    expect(accepted(h)).toBe('linearizable')
    expect(accepted([...h.slice(0, 2), r('a', 21, 22), r('b', 23, 24)])).toBe('violation')
  })

  it('timeouts: an unknown write may land at any time after it was sent, or never', () => {
    expect(accepted([w('a', 0, 1), w('b', 2), r('b', 50, 51)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), w('b', 2), r('a', 50, 51)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), w('b', 2), r('a', 50, 51), r('b', 52, 53)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), d(2), r(null, 3, 4), r(null, 5, 6)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), d(2), r('a', 3, 4)])).toBe('linearizable')
    // an unknown read constrains nothing
    expect(accepted([w('a', 0, 1), r('zzz', 2)])).toBe('linearizable')
  })

  it('timeouts that existence answers depend on', () => {
    // the delete that found the key and the 200 need the unknown write to have landed
    expect(accepted([w('u', 0), d(5, 6, true)])).toBe('linearizable')
    expect(accepted([w('u', 0), w('b', 5, 6, { created: false })])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), d(2), w('b', 5, 6, { created: true })])).toBe('linearizable')
    // a conditional unknown write lands only where its precondition holds
    expect(accepted([w('a', 0, 1), w('x', 2, undefined, { ifMatch: is('a') }), r('x', 5, 6)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), w('b', 2, 3), w('x', 4, undefined, { ifMatch: is('a') }), r('x', 5, 6)])).toBe('violation')
  })

  it('compare-and-set: successes and 412s that agree with the state', () => {
    expect(accepted([w('a', 0, 1, { created: true }), w('b', 2, 3, { ifMatch: is('a'), created: false }), w('c', 4, 5, { ifMatch: is('a'), failed: true }), r('b', 6, 7), d(8, 9, true, { ifMatch: 'any' }), w('d', 10, 11, { ifMatch: 'any', failed: true }), d(12, 13, false)])).toBe('linearizable')
    // two concurrent CAS on the same version: one wins, the other gets 412
    expect(accepted([w('a', 0, 1), w('b', 2, 10, { ifMatch: is('a') }), w('c', 2, 10, { ifMatch: is('a'), failed: true }), r('b', 11, 12)])).toBe('linearizable')
    expect(accepted([w('a', 0, 1), w('b', 2, 10, { ifMatch: is('a') }), w('c', 2, 10, { ifMatch: is('a') })])).toBe('violation')
  })

  it('many overlapping writes, decided by memoisation', () => {
    const h: RegisterOp[] = []
    for (let i = 0; i < 14; i++) h.push(w(`v${i}`, 0, 100))
    h.push(r('v7', 101, 102), r('v7', 103, 104))
    expect(accepted(h)).toBe('linearizable')
    h.push(r('v3', 105, 106))
    expect(accepted(h)).toBe('violation')
  })

  it('a long real-looking history', () => {
    const h: RegisterOp[] = []
    let t = 0
    for (let i = 0; i < 3_000; i++) {
      const value = `v${i}`
      h.push(w(value, t, t + 3), r(i % 2 === 0 ? (i === 0 ? null : `v${i - 1}`) : value, t + 1, t + 4))
      t += 5
    }
    expect(accepted(h)).toBe('linearizable')
  })

  it('says inconclusive, never linearizable, when it runs out of steps', () => {
    // concurrent writes, each seen by a concurrent read: many orders to try
    const h: RegisterOp[] = []
    for (let i = 0; i < 12; i++) h.push(w(`v${i}`, 0, 100, { created: i === 0 }), r(`v${i}`, 0, 100))
    h.push(r('v5', 101, 102))
    expect(checkKey('k', h).result).toBe('linearizable')
    const v = checkHistory(h, { maxSteps: 20 })
    expect(v.ok).toBe(false)
    expect(v.inconclusive.map((x) => x.key)).toEqual(['k'])
    expect(describeInconclusive(v.inconclusive[0]!)).toContain('key "k"')
  })
})

describe('linearizability: ties on the clock', () => {
  it('never create a violation: operations that touch are concurrent', () => {
    expect(accepted([w('a', 0, 10), r(null, 10, 11)])).toBe('linearizable')
    expect(accepted([w('a', 0, 10), r('a', 10, 11)])).toBe('linearizable')
    // an unknown write sent at the moment a delete that needs it completed (the old narrowing dropped it)
    expect(accepted([w('u', 5), d(0, 5, true)])).toBe('linearizable')
    // an unknown delete sent at the moment a read of "absent" completed
    expect(accepted([w('a', -2, -1), d(5), r(null, 0, 5)])).toBe('linearizable')
    // a read that completes at the moment an unknown write was sent may have seen it
    expect(accepted([r('b', 0, 5), w('b', 5)])).toBe('linearizable')
  })

  it('never hide one: a hair apart, the same histories are rejected', () => {
    expect(accepted([w('a', 0, 10), r(null, 10.001, 11)])).toBe('violation')
    expect(accepted([w('u', 5.001), d(0, 5, true)])).toBe('violation')
    expect(accepted([w('a', -2, -1), d(5.001), r(null, 0, 5)])).toBe('violation')
    expect(accepted([r('b', 0, 4.999), w('b', 5)])).toBe('violation')
  })

  it('never hide one: a history wrong in every order of the tied operations stays wrong', () => {
    expect(accepted([w('a', 0, 5), w('b', 5, 6), r('a', 7, 8), r('b', 9, 10), r('a', 11, 12)])).toBe('violation')
    expect(accepted([w('a', 0, 5), d(5, 6, true), r('a', 7, 8)])).toBe('violation')
  })
})

describe('unknown outcomes, narrowed and pruned', () => {
  it('a write seen by a read completes by then; one nothing could need goes', () => {
    const seen = w('b', 10)
    const unseen = w('c', 11)
    const unseenDelete = d(12)
    const p = prepareKey([w('a', 0, 1), seen, unseen, unseenDelete, r('b', 20, 30), r('b', 40, 50), r('zz', 60)])
    expect(p.required.find((op) => op.id === seen.id)?.complete).toBe(30)
    expect(p.optional).toEqual([])
    expect(p.dropped).toBe(3)
  })

  it('narrows a write seen by a read that completed at the very moment it was sent (a tie is concurrent)', () => {
    const tied = w('b', 5)
    expect(prepareKey([r('b', 0, 5), tied]).required.find((op) => op.id === tied.id)?.complete).toBe(5)
    expect(prepareKey([r('b', 0, 4.999), w('b', 5)]).required).toHaveLength(1)
  })

  it('keeps what an existence answer, a 412 or a read of "absent" sent later could need', () => {
    expect(prepareKey([w('c', 11), d(20, 21, true)]).optional).toHaveLength(1)
    expect(prepareKey([w('a', 0, 1), d(5), r(null, 6, 7)]).optional).toHaveLength(1)
    expect(prepareKey([w('a', 0, 1), w('c', 5), w('x', 6, 7, { ifMatch: is('a'), failed: true })]).optional).toHaveLength(1)
    // ... but not when those answers came before it was sent
    expect(prepareKey([d(20, 21, true), w('c', 22)]).optional).toHaveLength(0)
    // an unknown If-Match write on a value nobody writes can never land
    expect(prepareKey([w('c', 5, undefined, { ifMatch: is('nobody') }), d(20, 21, true)]).optional).toHaveLength(0)
  })
})

/**
 * The reference: every order of every subset of the unknown operations, respecting real time
 * (a before b when a completed strictly before b was sent), run through the sequential model.
 * Exponential, so only for small histories; written independently of the checker's search.
 */
function bruteForce (history: readonly RegisterOp[]): boolean {
  const ops = history.filter((op) => !(op.kind === 'read' && op.complete === undefined))
  const placed = new Array<boolean>(ops.length).fill(false)
  const search = (state: string | null, count: number): boolean => {
    if (ops.every((op, i) => placed[i] === true || op.complete === undefined)) return true
    for (let i = 0; i < ops.length; i++) {
      if (placed[i] === true) continue
      const op = ops[i]!
      // every unplaced answered op that completed before this one was sent must come first
      if (ops.some((o, j) => j !== i && placed[j] !== true && o.complete !== undefined && o.complete < op.invoke)) continue
      const { ok, next } = stepRef(state, op)
      if (!ok) continue
      placed[i] = true
      const found = search(next, count + 1)
      placed[i] = false
      if (found) return true
    }
    return false
  }
  return search(null, 0)
}

/** The register's specification, restated for the reference (not imported from the checker). */
function stepRef (state: string | null, op: RegisterOp): { ok: boolean, next: string | null } {
  const cond = op.ifMatch === undefined || (op.ifMatch === 'any' ? state !== null : state === op.ifMatch.value)
  if (op.kind === 'read') return { ok: op.output === state, next: state }
  if (op.complete === undefined) return { ok: cond, next: op.kind === 'write' ? op.value : null }
  if (op.preconditionFailed === true) return { ok: op.ifMatch !== undefined && !cond, next: state }
  if (op.kind === 'write') return { ok: cond && (op.created === undefined || op.created === (state === null)), next: op.value }
  if (op.found === false) return { ok: state === null, next: state }
  return { ok: cond && (op.found === undefined || state !== null), next: null }
}

/**
 * A small random history of one key. Half of them are produced by a real register (a random
 * linearization, answers computed from it, some outcomes then hidden), the other half get random
 * answers; both with coarse times so ties are common.
 */
function randomHistory (random: () => number, realistic: boolean): RegisterOp[] {
  const n = 1 + Math.floor(random() * 7)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const values = Array.from({ length: n }, (_, i) => `v${i}`)
  const ops: RegisterOp[] = []
  for (let i = 0; i < n; i++) {
    const invoke = Math.floor(random() * 8)
    const complete = invoke + Math.floor(random() * 4)
    const kind = pick(['read', 'read', 'write', 'write', 'write', 'delete'] as const)
    const ifMatch: Precondition | undefined = kind === 'read' || random() < 0.5 ? undefined : random() < 0.3 ? 'any' : { value: pick([...values, 'nobody']) }
    const unknown = random() < 0.3
    const base = { id: i, key: 'k', invoke, complete: unknown ? undefined : complete, ...(ifMatch !== undefined ? { ifMatch } : {}) }
    if (kind === 'read') ops.push({ ...base, kind, output: random() < 0.3 ? null : pick(values) })
    else if (kind === 'write') ops.push({ ...base, kind, value: values[i]!, ...(random() < 0.7 ? { created: random() < 0.5 } : {}), ...(ifMatch !== undefined && random() < 0.3 ? { preconditionFailed: true } : {}) })
    else ops.push({ ...base, kind, ...(random() < 0.8 ? { found: random() < 0.5 } : {}), ...(ifMatch !== undefined && random() < 0.3 ? { preconditionFailed: true } : {}) })
  }
  if (!realistic) return ops
  // answers from one real linearization: sort by a random point inside each interval
  const points = ops.map((op) => ({ op, at: op.invoke + random() * ((op.complete ?? op.invoke + 4) - op.invoke) }))
  points.sort((a, b) => a.at - b.at)
  let state: string | null = null
  const out: RegisterOp[] = []
  for (const { op } of points) {
    if (op.complete === undefined && random() < 0.5) { out.push(op); continue } // never landed
    const cond = op.ifMatch === undefined || (op.ifMatch === 'any' ? state !== null : state === op.ifMatch.value)
    if (op.kind === 'read') {
      out.push({ ...op, output: state })
    } else if (op.complete === undefined) {
      if (cond) state = op.kind === 'write' ? op.value : null
      out.push(op)
    } else if (!cond) {
      out.push(op.kind === 'write' ? { ...op, preconditionFailed: true, created: undefined } : { ...op, preconditionFailed: true, found: undefined })
    } else if (op.kind === 'write') {
      out.push({ ...op, preconditionFailed: undefined, created: state === null })
      state = op.value
    } else {
      out.push({ ...op, preconditionFailed: undefined, found: state !== null })
      state = null
    }
  }
  // and sometimes one answer is tampered with
  if (random() < 0.4) {
    const i = Math.floor(random() * out.length)
    const op = out[i]!
    out[i] = op.kind === 'read' ? { ...op, output: random() < 0.5 ? null : pick(values) } : op.kind === 'write' ? { ...op, created: random() < 0.5 } : { ...op, found: random() < 0.5 }
  }
  return out.sort((a, b) => a.id - b.id)
}

describe('linearizability: agrees with a brute-force search on small random histories', () => {
  it('on 1,500 seeded histories of up to 7 operations, with unknown outcomes and compare-and-set', () => {
    const random = seededRandom(20_261_128)
    const tally = { linearizable: 0, violation: 0 }
    for (let i = 0; i < 1_500; i++) {
      const h = randomHistory(random, i % 2 === 0)
      const expected = bruteForce(h)
      const got = checkKey('k', h).result
      expect(got, `case ${i}: ${JSON.stringify(h)}`).toBe(expected ? 'linearizable' : 'violation')
      tally[got === 'linearizable' ? 'linearizable' : 'violation']++
    }
    // both verdicts are well represented, so the comparison means something
    expect(tally.linearizable).toBeGreaterThan(300)
    expect(tally.violation).toBeGreaterThan(300)
  })
})
