import { describe, expect, it } from 'vitest'
import { registerOps, type OpRecord } from '../../../scripts/chaos/core/history.js'
import { kvLeaderOutcome, kvQuorumOutcome, type KvMethod } from '../../../scripts/chaos/core/kv-contract.js'

const base = { workload: 'kv-leader', idempotent: false, intended: 0, invoke: 1, complete: 5, phase: 'load' as const, key: 'k' }
let seq = 0
const rec = (kind: OpRecord['kind'], status: number | undefined, code?: string, extra: Partial<OpRecord> = {}): OpRecord =>
  ({ ...base, seq: seq++, kind, outcome: 'ok', ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}), ...(kind === 'write' ? { value: `v${seq}` } : {}), ...extra })

describe('the outcome contract of kv-leader (issue 12), row by row', () => {
  it.each<[KvMethod, number | undefined, string | undefined, string]>([
    ['write', 201, undefined, 'applied created'],
    ['write', 200, undefined, 'applied existed'],
    ['delete', 200, undefined, 'applied'],
    ['delete', 204, undefined, 'applied'],
    ['delete', 404, 'KVL_ERR_NOT_FOUND', 'observed absent'],
    ['write', 412, 'KVL_ERR_VERSION_MISMATCH', 'observed precondition'],
    ['delete', 412, 'KVL_ERR_VERSION_MISMATCH', 'observed precondition'],
    ['read', 200, undefined, 'read found'],
    ['read', 404, 'KVL_ERR_NOT_FOUND', 'read absent'],
    ['write', 503, 'KVL_ERR_NOT_LEADER', 'refused'],
    ['write', 503, 'KVL_ERR_NO_LEADER', 'refused'],
    ['delete', 503, 'GW_ERR_NO_UPSTREAM', 'refused'],
    ['write', 503, 'HTTP_ERR_DEADLINE_PASSED', 'refused'],
    ['write', 504, 'HTTP_ERR_DEADLINE_PASSED', 'refused'], // histories recorded before it became a 503
    ['write', 400, 'KVL_ERR_BAD_KEY', 'refused'],
    ['write', 413, 'KVL_ERR_VALUE_TOO_LARGE', 'refused'],
    ['delete', 404, 'GW_ERR_UNKNOWN_SERVICE', 'refused'],
    ['write', 412, 'SOMETHING_ELSE', 'refused'],
    ['write', 503, 'KVL_ERR_OUTCOME_UNKNOWN', 'unknown'],
    ['write', 504, 'GW_ERR_UPSTREAM_TIMEOUT', 'unknown'],
    ['delete', 502, 'GW_ERR_UPSTREAM_BROKEN', 'unknown'],
    ['write', 504, 'GW_ERR_DEADLINE_EXCEEDED', 'unknown'],
    ['write', 503, 'KVL_ERR_NO_QUORUM', 'unknown'],
    ['write', 500, undefined, 'unknown'],
    ['write', undefined, undefined, 'unknown'],
    ['write', 204, undefined, 'unknown'],
    ['write', 302, undefined, 'unknown'],
    ['read', 503, 'KVL_ERR_NOT_LEADER', 'unknown']
  ])('%s → %s %s: %s', (method, status, code, expected) => {
    const o = kvLeaderOutcome(method, status, code)
    const got = o.kind === 'applied' ? (o.created === undefined ? 'applied' : o.created ? 'applied created' : 'applied existed') : o.kind === 'observed' ? `observed ${o.what}` : o.kind === 'read' ? (o.found ? 'read found' : 'read absent') : o.kind
    expect(got).toBe(expected)
  })

  it('kv-quorum: every failure is of unknown outcome, a service 404 is "not found"', () => {
    expect(kvQuorumOutcome('write', 503, 'KVQ_ERR_NO_QUORUM')).toEqual({ kind: 'unknown' })
    expect(kvQuorumOutcome('read', 404, 'KVQ_ERR_NOT_FOUND')).toEqual({ kind: 'read', found: false })
    expect(kvQuorumOutcome('read', 404, 'GW_ERR_UNKNOWN_SERVICE')).toEqual({ kind: 'unknown' })
    expect(kvQuorumOutcome('write', 200, undefined)).toEqual({ kind: 'applied' })
  })
})

describe('records → register operations', () => {
  it('applies the table: observations kept, refusals dropped, unknown outcomes open-ended', () => {
    seq = 0
    const ops = registerOps([
      rec('write', 201, undefined, { value: 'a' }),
      rec('write', 200, undefined, { value: 'b', ifMatch: '"1"', ifValue: 'a' }),
      rec('write', 412, 'KVL_ERR_VERSION_MISMATCH', { value: 'c', ifMatch: '*', outcome: 'ok' }),
      rec('write', 504, 'GW_ERR_UPSTREAM_TIMEOUT', { value: 'd', outcome: 'fail' }),
      rec('write', 503, 'KVL_ERR_NOT_LEADER', { value: 'e', outcome: 'fail' }),
      rec('read', 200, undefined, { output: 'b' }),
      rec('read', 404, 'KVL_ERR_NOT_FOUND', { output: null }),
      rec('read', 503, 'KVL_ERR_NO_LEADER', { outcome: 'fail' }),
      rec('delete', 200),
      rec('delete', 404, 'KVL_ERR_NOT_FOUND'),
      rec('delete', 412, 'KVL_ERR_VERSION_MISMATCH', { ifMatch: '"7"', ifValue: 'b' }),
      rec('delete', undefined, undefined, { outcome: 'fail', cause: 'timeout' }),
      rec('write', undefined, undefined, { value: 'f', outcome: 'fail', cause: 'client saturated', invoke: undefined })
    ])
    const at = { key: 'k', invoke: 1 }
    expect(ops).toEqual([
      { ...at, id: 0, complete: 5, kind: 'write', value: 'a', created: true },
      { ...at, id: 1, complete: 5, kind: 'write', value: 'b', created: false, ifMatch: { value: 'a' } },
      { ...at, id: 2, complete: 5, kind: 'write', value: 'c', preconditionFailed: true, ifMatch: 'any' },
      { ...at, id: 3, complete: undefined, kind: 'write', value: 'd' },
      { ...at, id: 5, complete: 5, kind: 'read', output: 'b' },
      { ...at, id: 6, complete: 5, kind: 'read', output: null },
      { ...at, id: 8, complete: 5, kind: 'delete', found: true },
      { ...at, id: 9, complete: 5, kind: 'delete', found: false },
      { ...at, id: 10, complete: 5, kind: 'delete', preconditionFailed: true, ifMatch: { value: 'b' } },
      { ...at, id: 11, complete: undefined, kind: 'delete' }
    ])
  })

  it('reads histories recorded before the code was kept apart (the code is in the cause)', () => {
    seq = 0
    const ops = registerOps([
      { ...base, seq: 1, kind: 'read', status: 404, output: null, outcome: 'ok' },
      { ...base, seq: 2, kind: 'write', value: 'x', status: 503, outcome: 'fail', cause: 'http 503 KVL_ERR_NOT_LEADER' },
      { ...base, seq: 3, kind: 'write', value: 'y', status: 504, outcome: 'fail', cause: 'http 504 GW_ERR_UPSTREAM_TIMEOUT' },
      { ...base, seq: 4, kind: 'delete', status: 404, found: false, outcome: 'ok' }
    ])
    expect(ops.map((op) => [op.id, op.kind, op.complete])).toEqual([[1, 'read', 5], [3, 'write', undefined], [4, 'delete', 5]])
  })

  it('refuses an If-Match record that does not say which value the version held', () => {
    expect(() => registerOps([rec('write', 200, undefined, { ifMatch: '"3"' })])).toThrow(/ifValue/)
  })
})
