import { describe, expect, it } from 'vitest'
import { ejectionTimes, failureWindows, failuresByCause, leaderElectionTimes, longestFailureWindow, type FaultEvent } from '../../../scripts/chaos/core/analysis.js'
import type { OpRecord } from '../../../scripts/chaos/core/history.js'

let seq = 0
function op (intended: number, outcome: 'ok' | 'fail', extra: Partial<OpRecord> = {}): OpRecord {
  return { seq: seq++, workload: 'echo', kind: 'request', idempotent: true, intended, invoke: intended, complete: intended + 5, outcome, phase: 'load', ...(outcome === 'fail' ? { cause: 'timeout' } : {}), ...extra }
}

describe('history analysis', () => {
  it('finds the longest run of consecutive failures by duration', () => {
    const records = [op(0, 'ok'), op(10, 'fail'), op(20, 'fail'), op(30, 'ok'), op(40, 'fail', { complete: 140 }), op(50, 'ok')]
    expect(longestFailureWindow(records)).toEqual({ count: 1, durationMs: 100, startMs: 40 })
    expect(longestFailureWindow([op(0, 'ok')])).toBeUndefined()
    expect(failureWindows(records)).toEqual([{ count: 2, durationMs: 15, startMs: 10 }, { count: 1, durationMs: 100, startMs: 40 }])
  })

  it('counts failures by cause', () => {
    const records = [op(0, 'fail', { cause: 'http 503 GW_ERR_NO_UPSTREAM' }), op(1, 'fail', { cause: 'timeout' }), op(2, 'fail', { cause: 'timeout' }), op(3, 'ok')]
    expect(failuresByCause(records)).toEqual([{ cause: 'timeout', count: 2 }, { cause: 'http 503 GW_ERR_NO_UPSTREAM', count: 1 }])
  })

  it('measures a leader election from the kill to the first acknowledged write sent after it', () => {
    const faults: FaultEvent[] = [{ kind: 'kill-leader', service: 'kv-leader', target: 'kv-leader-1', atMs: 1_000, endMs: 1_000 }, { kind: 'kill-leader', atMs: 50_000, endMs: 50_000 }]
    const records = [
      op(900, 'ok', { kind: 'write', complete: 1_100 }), // sent before the kill: does not count
      op(1_010, 'fail', { kind: 'write', complete: 1_200 }),
      op(1_020, 'ok', { kind: 'write', complete: 1_450 }),
      op(1_030, 'ok', { kind: 'write', complete: 1_400 })
    ]
    expect(leaderElectionTimes(faults, records)).toEqual({ samples: [400], missing: 1 })
  })

  it('measures gateway ejection as kill to last failed request, 0 when none failed', () => {
    const faults: FaultEvent[] = [
      { kind: 'kill', service: 'echo', atMs: 1_000, endMs: 1_000 },
      { kind: 'kill', service: 'echo', atMs: 5_000, endMs: 5_000 },
      { kind: 'kill', service: 'sink', atMs: 8_000, endMs: 8_000 }
    ]
    const records = [op(1_100, 'fail', { complete: 1_300 }), op(1_200, 'fail', { complete: 1_250 }), op(5_500, 'ok')]
    expect(ejectionTimes(faults, (s) => s === 'echo' ? records : undefined)).toEqual({ samples: [300, 0], missing: 0 })
  })
})
