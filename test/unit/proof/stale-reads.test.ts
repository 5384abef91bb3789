import { describe, expect, it } from 'vitest'
import type { RegisterOp } from '../../../scripts/chaos/core/linearizability.js'
import { checkStaleReads, describeStaleRead } from '../../../scripts/chaos/core/stale-reads.js'

let nextId = 0
const w = (value: string, invoke: number, complete?: number): RegisterOp => ({ id: nextId++, key: 'k', kind: 'write', value, invoke, complete })
const r = (output: string | null, invoke: number, complete?: number): RegisterOp => ({ id: nextId++, key: 'k', kind: 'read', output, invoke, complete })
const d = (invoke: number, complete?: number): RegisterOp => ({ id: nextId++, key: 'k', kind: 'delete', invoke, complete })

describe('kv-quorum stale reads (W + R > N)', () => {
  it('accepts reads of the newest acknowledged value, or of a write still in flight', () => {
    expect(checkStaleReads([w('a', 0, 1), r('a', 2, 3), w('b', 4, 10), r('a', 5, 6), r('b', 7, 8)]).ok).toBe(true)
  })

  it('accepts either order of two concurrent writes, even flip-flopping (LWW is not linearizable)', () => {
    expect(checkStaleReads([w('a', 0, 5), w('b', 0, 5), r('b', 6, 7), r('a', 8, 9)]).ok).toBe(true)
  })

  it('flags a read older than a write acknowledged before it began', () => {
    const v = checkStaleReads([w('a', 0, 1), w('b', 2, 3), r('a', 4, 5)])
    expect(v.ok).toBe(false)
    expect(v.stale[0]!.reason).toBe('stale')
    expect(describeStaleRead(v.stale[0]!)).toContain('older than the write "b"')
  })

  it('flags a lost write: not found after an acknowledged write, unless a delete may explain it', () => {
    expect(checkStaleReads([w('a', 0, 1), r(null, 2, 3)]).ok).toBe(false)
    expect(checkStaleReads([w('a', 0, 1), d(1.5), r(null, 2, 3)]).ok).toBe(true)
    expect(checkStaleReads([w('a', 0, 1), d(1.5, 1.8), r('a', 2, 3)]).ok).toBe(false)
  })

  it('never counts a failed write as acknowledged, but accepts reading it', () => {
    expect(checkStaleReads([w('a', 0, 1), w('b', 2), r('a', 4, 5), r('b', 6, 7)]).ok).toBe(true)
  })

  it('flags a phantom value no write had sent', () => {
    const v = checkStaleReads([r('x', 0, 1), w('x', 2, 3)])
    expect(v.stale.map((s) => s.reason)).toEqual(['phantom'])
  })

  it('ignores failed reads and counts the checked ones', () => {
    expect(checkStaleReads([w('a', 0, 1), r('zzz', 2), r('a', 3, 4)])).toEqual({ ok: true, reads: 1, stale: [] })
  })
})
