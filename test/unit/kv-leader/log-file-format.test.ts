import { describe, expect, it } from 'vitest'
import { recoverLog } from '../../../services/kv-leader/src/core/recover.js'
import { fromWire, replyFromWire, requestFromWire, requestToWire, snapshotFromWire, snapshotRequestFromWire, snapshotRequestToWire, snapshotToWire, toWire } from '../../../services/kv-leader/src/core/wire.js'
import type { Entry, Snapshot } from '../../../services/kv-leader/src/core/types.js'

const put = (index: number, epoch: number, key: string, value: string): Entry => ({ index, epoch, op: 'put', key, value: Buffer.from(value) })
const line = (e: Entry): string => JSON.stringify(toWire(e)) + '\n'

describe('log file format and recovery', () => {
  it('round-trips entries, binary values included', () => {
    const e: Entry = { index: 3, epoch: 2, op: 'put', key: 'k', value: Buffer.from([0, 255, 10, 13]) }
    expect(fromWire(JSON.parse(JSON.stringify(toWire(e))))).toEqual(e)
    expect(fromWire({ i: 1, e: 1, o: 'noop' })).toEqual({ index: 1, epoch: 1, op: 'noop' })
    expect(fromWire({ i: 0, e: 1, o: 'put', k: 'k' })).toBeUndefined()
    expect(fromWire({ i: 1, e: 1, o: 'drop', k: 'k' })).toBeUndefined()
    expect(fromWire({ i: 1, e: 1, o: 'del' })).toBeUndefined()
  })

  it('replays entries and truncation records', () => {
    const text = line(put(1, 1, 'a', '1')) + line(put(2, 1, 'b', '2')) + line(put(3, 1, 'c', '3')) + JSON.stringify({ t: 2 }) + '\n' + line(put(2, 2, 'b', 'x'))
    const { log, goodBytes, dropped } = recoverLog(text)
    expect(log.lastIndex).toBe(2)
    expect(log.entry(2)?.value?.toString()).toBe('x')
    expect(log.lastEpoch).toBe(2)
    expect(goodBytes).toBe(Buffer.byteLength(text))
    expect(dropped).toBe(0)
  })

  it('cuts a torn last write (no newline, or garbage) and keeps what came before', () => {
    const good = line(put(1, 1, 'a', '1')) + line(put(2, 1, 'b', '2'))
    const torn = recoverLog(good + '{"i":3,"e":1,"o":"pu')
    expect(torn.log.lastIndex).toBe(2)
    expect(torn.goodBytes).toBe(Buffer.byteLength(good))
    expect(torn.dropped).toBe(1)
    const garbage = recoverLog(good + 'zzz\n' + line(put(3, 1, 'c', '3')))
    expect(garbage.log.lastIndex).toBe(2)
    expect(garbage.dropped).toBe(2)
    const gap = recoverLog(good + line(put(5, 1, 'e', '5')))
    expect(gap.log.lastIndex).toBe(2)
    expect(recoverLog('').log.lastIndex).toBe(0)
  })

  it('validates append requests and replies from the wire', () => {
    const req = { epoch: 2, leaderId: 'a', prevIndex: 4, prevEpoch: 1, leaderCommit: 4, entries: [put(5, 2, 'k', 'v'), { index: 6, epoch: 2, op: 'noop' as const }] }
    expect(requestFromWire(JSON.parse(JSON.stringify(requestToWire(req))))).toEqual(req)
    expect(requestFromWire({ ...requestToWire(req), entries: [toWire(put(7, 2, 'k', 'v'))] })).toBeUndefined()
    expect(requestFromWire({ ...requestToWire(req), epoch: -1 })).toBeUndefined()
    expect(requestFromWire('nope')).toBeUndefined()
    expect(replyFromWire({ ok: true, epoch: 1, lastIndex: 3 })).toEqual({ ok: true, epoch: 1, lastIndex: 3 })
    expect(replyFromWire({ ok: 'yes', epoch: 1, lastIndex: 3 })).toBeUndefined()
  })

  it('replays on top of a snapshot, skipping lines it covers (a crash between the two rewrites)', () => {
    const text = line(put(1, 1, 'a', '1')) + line(put(2, 1, 'b', '2')) + line(put(3, 1, 'c', '3')) + JSON.stringify({ t: 2 }) + '\n' + line(put(2, 1, 'b', '2')) + line(put(3, 2, 'c', 'x'))
    const { log } = recoverLog(text, { index: 2, epoch: 1 })
    expect(log.base).toBe(2)
    expect(log.lastIndex).toBe(3)
    expect(log.entry(3)?.epoch).toBe(2)
  })

  it('snapshots round-trip, and a malformed one is refused', () => {
    const snap: Snapshot = {
      index: 7,
      epoch: 2,
      entries: [{ key: 'k', value: Buffer.from([0, 1, 2]), version: 5 }],
      writes: [
        { rid: 'rid-00000001', index: 5, result: { applied: true, version: 5, created: true } },
        { rid: 'rid-00000002', index: 6, result: { applied: false, code: 'KVL_ERR_NOT_FOUND', message: 'no key "x"' } }
      ]
    }
    expect(snapshotFromWire(JSON.parse(JSON.stringify(snapshotToWire(snap))))).toEqual(snap)
    const req = { epoch: 3, leaderId: 'a', leaderCommit: 9, snapshot: snap }
    expect(snapshotRequestFromWire(JSON.parse(JSON.stringify(snapshotRequestToWire(req))))).toEqual(req)
    expect(snapshotFromWire({ index: 1, epoch: 1, entries: [{ k: 'k', v: 1, n: 1 }] })).toBeUndefined()
    expect(snapshotRequestFromWire({ epoch: 1, leaderCommit: 1, snapshot: snapshotToWire(snap) })).toBeUndefined()
    // a snapshot written before retry keys existed still reads
    expect(snapshotFromWire({ index: 1, epoch: 1, entries: [] })).toEqual({ index: 1, epoch: 1, entries: [], writes: [] })
  })

  it('entries carry their preconditions and retry key through the wire and the file; malformed ones are refused', () => {
    const entry: Entry = { index: 3, epoch: 1, op: 'put', key: 'k', value: Buffer.from('v'), cond: { ifMatch: [1, 2], ifNoneMatch: 'any' }, rid: 'rid-00000003' }
    expect(fromWire(JSON.parse(JSON.stringify(toWire(entry))))).toEqual(entry)
    expect(fromWire({ i: 3, e: 1, o: 'put', k: 'k', v: '', c: { m: ['1'] } })).toBeUndefined()
    expect(fromWire({ i: 3, e: 1, o: 'noop', c: { m: '*' } })).toBeUndefined()
    expect(fromWire({ i: 3, e: 1, o: 'del', k: 'k', r: 7 })).toBeUndefined()
  })
})
