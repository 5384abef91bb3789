import { describe, expect, it } from 'vitest'
import { parseEvent } from '../../../services/feed/src/core/event.js'
import { parseBatch, parseOutputsQuery } from '../../../services/sink/src/core/batch.js'
import { compareInputIds, fingerprint } from '../../../shared/src/pipeline/types.js'
import { expectFingerprints } from '../../../shared/src/pipeline/verify.js'

describe('feed event validation', () => {
  it('accepts exactly account + safe-integer amount', () => {
    expect(parseEvent({ account: 'a-1_B', amount: -9_007_199_254_740_991 })).toEqual({ account: 'a-1_B', amount: -9_007_199_254_740_991 })
  })

  it.each([
    [null], [[]], ['x'], [{}],
    [{ account: 'a1' }],
    [{ amount: 1 }],
    [{ account: '', amount: 1 }],
    [{ account: 'x'.repeat(65), amount: 1 }],
    [{ account: 'a/b', amount: 1 }],
    [{ account: 'a1', amount: '1' }],
    [{ account: 'a1', amount: 1.5 }],
    [{ account: 'a1', amount: 2 ** 53 }],
    [{ account: 'a1', amount: Number.NaN }],
    [{ account: 'a1', amount: 1, note: 'x' }],
    [{ account: 1, amount: 1 }]
  ])('rejects %j with FEED_ERR_BAD_EVENT (400)', (body) => {
    expect(() => parseEvent(body)).toThrow(expect.objectContaining({ code: 'FEED_ERR_BAD_EVENT', statusCode: 400 }))
  })
})

describe('sink batch validation', () => {
  const ok = { pair: 'hot-warm', epoch: 3, holder: 'ledger-hw-a:0a1b2c3d', instance: 'ledger-hw-a', outputs: [{ inputId: '1-0', account: 'a', amount: 1, balance: '12345678901234567890' }] }
  it('accepts a well-formed batch', () => {
    expect(parseBatch(ok)).toEqual(ok)
  })
  it('epoch 0 (the hot-hot pair) needs no holder; any other epoch does', () => {
    const { holder: _holder, ...noHolder } = ok
    expect(parseBatch({ ...noHolder, epoch: 0 })).toEqual({ ...ok, epoch: 0, holder: '' })
    expect(parseBatch({ ...ok, epoch: 0 })).toEqual({ ...ok, epoch: 0, holder: '' })
    expect(() => parseBatch(noHolder)).toThrow(expect.objectContaining({ code: 'SINK_ERR_BAD_BATCH', message: expect.stringContaining('holder') }))
  })
  it.each([
    [{ ...ok, pair: 'x' }],
    [{ ...ok, epoch: -1 }],
    [{ ...ok, epoch: 1.5 }],
    [{ ...ok, instance: '' }],
    [{ ...ok, holder: '' }],
    [{ ...ok, holder: 'a b' }],
    [{ ...ok, holder: 'x'.repeat(161) }],
    [{ ...ok, outputs: [] }],
    [{ ...ok, outputs: [{ ...ok.outputs[0], inputId: '1' }] }],
    [{ ...ok, outputs: [{ ...ok.outputs[0], balance: 1.5 }] }],
    [{ ...ok, outputs: [{ ...ok.outputs[0], amount: '1' }] }]
  ])('rejects %j', (batch) => {
    expect(() => parseBatch(batch)).toThrow(expect.objectContaining({ code: 'SINK_ERR_BAD_BATCH' }))
  })
  it('validates output queries', () => {
    expect(parseOutputsQuery({ pair: 'hot-hot', account: 'a1' })).toEqual({ pair: 'hot-hot', account: 'a1', offset: 0, limit: 1_000 })
    expect(() => parseOutputsQuery({ pair: 'hot-hot' })).toThrow(expect.objectContaining({ code: 'SINK_ERR_BAD_QUERY' }))
    expect(() => parseOutputsQuery({ pair: 'hot-hot', account: 'a', limit: '0' })).toThrow(expect.objectContaining({ code: 'SINK_ERR_BAD_QUERY' }))
  })
})

describe('pipeline helpers', () => {
  it('orders stream ids numerically', () => {
    expect(['10-0', '9-5', '9-10', '100-0'].sort(compareInputIds)).toEqual(['9-5', '9-10', '10-0', '100-0'])
  })
  it('verify recomputes the expected fingerprints across chunks', () => {
    const balances = new Map<string, bigint>()
    expectFingerprints([['1-0', ['account', 'a', 'amount', '5']]], balances)
    const [second] = expectFingerprints([['2-0', ['account', 'a', 'amount', '-7']]], balances)
    expect(second?.fingerprint).toBe(fingerprint({ inputId: '2-0', account: 'a', amount: -7, balance: -2 }))
  })
})
