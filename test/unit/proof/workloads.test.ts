import { describe, expect, it } from 'vitest'
import { registerOps, type OpRecord } from '../../../scripts/chaos/core/history.js'
import { checkHistory } from '../../../scripts/chaos/core/linearizability.js'
import { seededRandom } from '../../../shared/testing/random.js'
import { VersionBook, versionFromEtag } from '../../../scripts/chaos/core/version-book.js'
import { chaosWorkloads, errorCause, parseRates, type PlannedOp, type Workload } from '../../../scripts/chaos/workloads.js'
import { CorrectKvLeader, kvLeaderRecord } from '../../../scripts/bench/simulated-kv-leader.js'

const kvLeader = (): Workload => chaosWorkloads('t').find((w) => w.name === 'kv-leader')!
const read: PlannedOp = { method: 'GET', path: '/api/kv-leader/keys/k', kind: 'read', key: 'k' }
const put: PlannedOp = { method: 'PUT', path: '/api/kv-leader/keys/k', kind: 'write', key: 'k', value: 'v1', body: 'v1' }
const del: PlannedOp = { method: 'DELETE', path: '/api/kv-leader/keys/k', kind: 'delete', key: 'k' }
const env = (error: string): string => JSON.stringify({ error, message: 'x' })

describe('workloads', () => {
  it('reads the error code of a JSON envelope into the failure cause', () => {
    expect(errorCause(503, '{"error":"GW_ERR_NO_UPSTREAM","message":"none"}')).toBe('http 503 GW_ERR_NO_UPSTREAM')
    expect(errorCause(500, 'oops')).toBe('http 500')
  })

  it('kv-leader: the contract\'s answers are successes, refusals and unknown outcomes failures, with their code', () => {
    const kv = kvLeader()
    expect(kv.interpret(read, 200, 'v1', { etag: '"7"' })).toEqual({ outcome: 'ok', output: 'v1', version: 7 })
    expect(kv.interpret(read, 404, env('KVL_ERR_NOT_FOUND'))).toEqual({ outcome: 'ok', output: null, code: 'KVL_ERR_NOT_FOUND' })
    expect(kv.interpret(read, 404, env('GW_ERR_UNKNOWN_SERVICE'))).toMatchObject({ outcome: 'fail', code: 'GW_ERR_UNKNOWN_SERVICE' })
    expect(kv.interpret(put, 201, '{"key":"k","version":3,"created":true}')).toEqual({ outcome: 'ok', version: 3 })
    expect(kv.interpret(del, 200, '{"key":"k","deleted":true,"version":4}')).toEqual({ outcome: 'ok', found: true, version: 4 })
    expect(kv.interpret(del, 404, env('KVL_ERR_NOT_FOUND'))).toEqual({ outcome: 'ok', found: false, code: 'KVL_ERR_NOT_FOUND' })
    expect(kv.interpret({ ...put, ifMatch: '"3"', ifValue: 'v0' }, 412, env('KVL_ERR_VERSION_MISMATCH'))).toEqual({ outcome: 'ok', code: 'KVL_ERR_VERSION_MISMATCH' })
    // a 412 to a request without a precondition is not an answer the contract has
    expect(kv.interpret(put, 412, env('KVL_ERR_VERSION_MISMATCH')).outcome).toBe('fail')
    expect(kv.interpret(put, 503, env('KVL_ERR_OUTCOME_UNKNOWN'))).toEqual({ outcome: 'fail', cause: 'http 503 KVL_ERR_OUTCOME_UNKNOWN', code: 'KVL_ERR_OUTCOME_UNKNOWN' })
    expect(kv.interpret(put, 503, env('KVL_ERR_NOT_LEADER'))).toMatchObject({ outcome: 'fail', code: 'KVL_ERR_NOT_LEADER' })
  })

  it('kv-leader: sends If-Match with versions learned from reads and writes, recording the value each names', () => {
    const kv = kvLeader()
    const random = seededRandom(3)
    const sent: PlannedOp[] = []
    let version = 0
    for (let seq = 0; seq < 3_000; seq++) {
      const op = kv.next(seq, random)
      sent.push(op)
      // a store that answers everything: reads see the last write, writes get the next version
      if (op.kind === 'write') kv.interpret(op, 200, JSON.stringify({ key: op.key, version: ++version, created: false }))
      else if (op.kind === 'read') kv.interpret(op, 200, 'whatever', { etag: `"${version}"` })
      else kv.interpret(op, 200, JSON.stringify({ key: op.key, deleted: true, version: ++version }))
    }
    const conditional = sent.filter((op) => op.ifMatch !== undefined)
    const byVersion = conditional.filter((op) => op.ifMatch !== '*')
    expect(byVersion.length).toBeGreaterThan(200)
    expect(conditional.filter((op) => op.ifMatch === '*').length).toBeGreaterThan(50)
    expect(conditional.filter((op) => op.kind === 'delete').length).toBeGreaterThan(50)
    for (const op of byVersion) {
      expect(op.ifMatch).toMatch(/^"\d+"$/)
      expect(op.ifValue).toBeDefined()
      expect(op.headers?.['if-match']).toBe(op.ifMatch)
    }
    expect(sent.filter((op) => op.kind === 'write' && op.ifMatch === undefined).length).toBeGreaterThan(500)
  })

  it('kv-quorum stays plain (no If-Match) and writes unique values', () => {
    const kv = chaosWorkloads('run1').find((w) => w.name === 'kv-quorum')!
    const random = seededRandom(5)
    const ops = Array.from({ length: 200 }, (_, i) => kv.next(i, random))
    expect(ops.some((op) => op.ifMatch !== undefined)).toBe(false)
    const values = ops.map((op) => op.value).filter(Boolean)
    expect(new Set(values).size).toBe(values.length)
  })

  it('feed: keeps the id each 202 acknowledged', () => {
    const feed = chaosWorkloads('t').find((w) => w.name === 'feed')!
    const post: PlannedOp = { method: 'POST', path: '/api/feed/events', kind: 'request' }
    expect(feed.interpret(post, 202, '{"id":"1700000000000-0"}')).toEqual({ outcome: 'ok', ackId: '1700000000000-0' })
    expect(feed.interpret(post, 202, '{}').outcome).toBe('fail')
    expect(feed.interpret(post, 503, env('FEED_ERR_UNAVAILABLE'))).toMatchObject({ outcome: 'fail', code: 'FEED_ERR_UNAVAILABLE' })
  })

  it('parses rate overrides', () => {
    expect(parseRates('echo=10, kv-leader=2.5')).toEqual({ echo: 10, 'kv-leader': 2.5 })
    expect(() => parseRates('echo=-1')).toThrow(/bad rate/)
  })
})

describe('version book', () => {
  it('keeps the newest version by log index, whatever order the answers arrive in', () => {
    const book = new VersionBook()
    book.learnValue('k', 5, 'b')
    book.learnValue('k', 3, 'a')
    expect(book.newest('k')).toEqual({ version: 5, value: 'b' })
    expect(book.older('k', 0)).toEqual({ version: 3, value: 'a' })
    book.learnDeleted('k', 6)
    expect(book.newest('k')).toBeUndefined()
    expect(versionFromEtag('"12"')).toBe(12)
    expect(versionFromEtag('W/"12"')).toBe(12)
    expect(versionFromEtag('12')).toBeUndefined()
  })
})

describe('the workload against a correct compare-and-set register', () => {
  it('produces a history the checker accepts, and one the checker rejects when a 412 is turned into a success', () => {
    const kv = kvLeader()
    const store = new CorrectKvLeader()
    const random = seededRandom(11)
    const records: OpRecord[] = []
    for (let seq = 0; seq < 2_000; seq++) {
      const op = kv.next(seq, random)
      const { status, body, headers } = store.apply(op)
      records.push(kvLeaderRecord(op, { seq, intended: seq * 10, invoke: seq * 10, complete: seq * 10 + 5 }, status, kv.interpret(op, status, body, headers)))
    }
    expect(records.filter((r) => r.status === 412).length).toBeGreaterThan(20)
    expect(checkHistory(registerOps(records)).ok).toBe(true)
    // the store "applies" the first refused compare-and-set and the next read shows it
    const refused = records.find((r) => r.status === 412 && r.kind === 'write')!
    const tampered = records.map((r) => r === refused ? { ...r, status: 200, code: undefined } as OpRecord : r)
    const v = checkHistory(registerOps(tampered))
    expect(v.ok).toBe(false)
    expect(v.violations.map((x) => x.key)).toEqual([refused.key])
  })
})
