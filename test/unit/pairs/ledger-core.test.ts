import { describe, expect, it } from 'vitest'
import { Balances, decodeEntry } from '../../../services/ledger/src/core/balances.js'
import { mayEmit, retryDelayMs } from '../../../services/ledger/src/core/emit-policy.js'
import { Outbox } from '../../../services/ledger/src/core/outbox.js'

describe('balances', () => {
  it('gives the same outputs on every replica for the same inputs, and goes past 2^53 exactly', () => {
    const run = (): unknown[] => {
      const b = new Balances()
      return [b.apply('1-0', 'a', 5), b.apply('1-1', 'b', -2), b.apply('2-0', 'a', Number.MAX_SAFE_INTEGER), b.apply('3-0', 'a', 1)]
    }
    expect(run()).toEqual(run())
    expect(run()).toEqual([
      { inputId: '1-0', account: 'a', amount: 5, balance: 5 },
      { inputId: '1-1', account: 'b', amount: -2, balance: -2 },
      { inputId: '2-0', account: 'a', amount: Number.MAX_SAFE_INTEGER, balance: '9007199254740996' },
      { inputId: '3-0', account: 'a', amount: 1, balance: '9007199254740997' }
    ])
  })

  it('decodes stream fields and refuses malformed ones', () => {
    expect(decodeEntry(['account', 'a1', 'amount', '-7'])).toEqual({ account: 'a1', amount: -7 })
    expect(decodeEntry(['account', 'a1'])).toBeUndefined()
    expect(decodeEntry(['account', 'a1', 'amount', '1.5'])).toBeUndefined()
  })
})

describe('outbox', () => {
  const out = (id: string): { inputId: string, account: string, amount: number, balance: number } => ({ inputId: id, account: 'a', amount: 1, balance: 1 })

  it('peeks the head in order and trims through an input id (numeric order, not string order)', () => {
    const box = new Outbox()
    for (const id of ['9-0', '10-0', '10-1', '100-0']) box.push(out(id))
    expect(box.peek(2).map((o) => o.inputId)).toEqual(['9-0', '10-0'])
    expect(box.trimThrough('10-0')).toBe(2)
    expect(box.peek(10).map((o) => o.inputId)).toEqual(['10-1', '100-0'])
    expect(box.trimThrough('5-0')).toBe(0)
    expect(box.trimThrough('200-0')).toBe(2)
    expect(box.size).toBe(0)
  })

  it('stays correct across compaction', () => {
    const box = new Outbox()
    for (let i = 1; i <= 10_000; i++) box.push(out(`${i}-0`))
    box.trimThrough('9000-0')
    expect(box.size).toBe(1_000)
    expect(box.peek(1)[0]?.inputId).toBe('9001-0')
  })
})

describe('emit policy', () => {
  const base = { rebuilt: true, phase: 'hot' as const, holdsLease: true }
  it.each([
    [{ ...base }, true],
    [{ ...base, rebuilt: false }, false],
    [{ ...base, holdsLease: false }, false],
    [{ ...base, phase: 'claiming' as const }, false],
    [{ ...base, phase: 'warm' as const }, false]
  ])('mayEmit(%o) = %s', (facts, expected) => {
    expect(mayEmit(facts)).toBe(expected)
  })

  it('waits longer after each failed send in a row, up to a cap', () => {
    const t = { retryMs: 20, retryMaxMs: 200 }
    expect([0, 1, 2, 5, 10, 50].map((f) => retryDelayMs(f, t))).toEqual([20, 20, 40, 100, 200, 200])
  })
})
