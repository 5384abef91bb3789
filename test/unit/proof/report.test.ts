import { describe, expect, it } from 'vitest'
import type { OpRecord } from '../../../scripts/chaos/core/history.js'
import { formatConsole, formatMarkdown } from '../../../scripts/chaos/format.js'
import { defaultBounds, evaluateBounds, parseBounds } from '../../../scripts/chaos/core/bounds.js'
import { buildReport, type ReportInput } from '../../../scripts/chaos/report.js'
import { chaosWorkloads } from '../../../scripts/chaos/workloads.js'

function records (): OpRecord[] {
  const out: OpRecord[] = []
  for (let i = 0; i < 10_000; i++) {
    const failed = i === 5_000 || i === 5_001
    out.push({ seq: i, workload: 'echo', kind: 'request', idempotent: true, intended: i * 10, invoke: i * 10, complete: i * 10 + (failed ? 2_000 : 3), outcome: failed ? 'fail' : 'ok', phase: 'load', ...(failed ? { cause: 'timeout' } : { status: 200 }) })
  }
  return out
}

describe('chaos report', () => {
  const workloads = chaosWorkloads('t').map((workload) => ({ workload, rate: workload.rate }))
  const report = buildReport({
    startedAt: new Date('2026-01-01T00:00:00Z'),
    command: 'npm run chaos -- --duration 100 --seed 1',
    seed: 1,
    durationS: 100,
    gatewayUrl: 'http://127.0.0.1:8080',
    present: new Set(['echo']),
    workloads,
    records: records(),
    faults: [{ kind: 'kill', service: 'echo', target: 'echo-2', atMs: 49_990, endMs: 49_990 }],
    takeovers: { samples: [], missing: 0 },
    roleChanges: { samples: [], missing: 0 },
    invariants: [{ name: 'kv-leader: linearizable', status: 'skipped', detail: 'skipped: service not in the cluster' }]
  })

  it('gives each present workload its nines, latency, causes and longest failure window', () => {
    const echo = report.workloads.find((w) => w.name === 'echo')!
    expect(echo).toMatchObject({ status: 'ran', requests: 10_000, failed: 2, nines: '99.98% (3 nines)', failuresByCause: [{ cause: 'timeout', count: 2 }] })
    expect(echo.longestFailureWindow).toEqual({ count: 2, durationMs: 2_010, startMs: 50_000 })
    expect(echo.latencyMs!.p50).toBeCloseTo(3, 1)
    expect(echo.latencyMs!.max).toBeGreaterThanOrEqual(1_990)
    expect(report.failover.gatewayEjection).toMatchObject({ samples: 1, p50Ms: 2_020 })
  })

  it('marks absent services as skipped and passes when no invariant broke', () => {
    expect(report.workloads.filter((w) => w.status === 'skipped').map((w) => w.reason)).toEqual(Array(4).fill('skipped: service not in the cluster'))
    expect(report.ok).toBe(true)
    expect(buildReport({ ...reportInputFailing() }).ok).toBe(false)
  })

  it('renders the console table and the Markdown summary', () => {
    const text = formatConsole(report)
    expect(text).toContain('99.98% (3 nines)')
    expect(text).toContain('replay: npm run chaos -- --duration 100 --seed 1')
    expect(text).toContain('chaos: every invariant held, every bound was met, every failover recovered')
    const md = formatMarkdown(report)
    expect(md).toContain('| echo * | 10000 | 2 | 100/s | 99.98% (3 nines) |')
    expect(md).toContain('| 4 | 99.99% | 8.64 s | 4.32 min | 52.6 min |')
  })

  function reportInputFailing (): Parameters<typeof buildReport>[0] {
    return { startedAt: new Date(), command: '', seed: 1, durationS: 1, gatewayUrl: 'x', present: new Set(), workloads: [], records: [], faults: [], takeovers: { samples: [], missing: 0 }, roleChanges: { samples: [], missing: 0 }, invariants: [{ name: 'x', status: 'violated', detail: '' }] }
  }
})

/** A kv-leader run: `n` writes then `n` reads, the ones listed failing, one leader kill at 1 s. */
function kvRun (n: number, failing: (i: number, kind: 'write' | 'read') => boolean, extra: Partial<ReportInput> = {}): ReportInput {
  const records: OpRecord[] = []
  let seq = 0
  for (const kind of ['write', 'read'] as const) {
    for (let i = 0; i < n; i++) {
      const bad = failing(i, kind)
      const t = i * 10
      records.push({ seq: seq++, workload: 'kv-leader', kind, key: 'k', idempotent: kind === 'read', intended: t, invoke: t, complete: t + 5, phase: 'load', outcome: bad ? 'fail' : 'ok', ...(bad ? { status: 503, cause: 'http 503 KVL_ERR_NOT_LEADER' } : { status: 200 }) })
    }
  }
  return {
    startedAt: new Date('2026-01-01T00:00:00Z'),
    command: 'x',
    seed: 1,
    durationS: 100,
    gatewayUrl: 'http://127.0.0.1:8080',
    present: new Set(['kv-leader']),
    workloads: chaosWorkloads('t').map((workload) => ({ workload, rate: workload.rate })),
    records,
    faults: [{ kind: 'kill-leader', service: 'kv-leader', target: 'kv-leader-1', atMs: 1_000, endMs: 1_000 }],
    takeovers: { samples: [], missing: 0 },
    roleChanges: { samples: [], missing: 0 },
    invariants: [{ name: 'kv-leader: linearizable', status: 'ok', detail: '' }],
    bounds: defaultBounds,
    ...extra
  }
}

describe('availability bounds', () => {
  it('puts each bound beside its figure and fails the run when one is not met', () => {
    // 2 failed writes of 2000 = 99.9 %: exactly the bound
    const met = buildReport(kvRun(2_000, (i, kind) => kind === 'write' && i >= 1_000 && i < 1_002))
    expect(met.bounds.find((b) => b.name === 'kv-leader-writes')).toMatchObject({ requests: 2_000, failed: 2, allowedFailures: 2, successRate: '99.90%', met: true })
    expect(met.bounds.find((b) => b.name === 'kv-quorum-writes')).toMatchObject({ requests: 0, met: null })
    expect(met.ok).toBe(true)
    const notMet = buildReport(kvRun(2_000, (i, kind) => kind === 'write' && i >= 1_000 && i < 1_003))
    expect(notMet.ok).toBe(false)
    expect(notMet.problems).toEqual(['kv-leader-writes: 99.85% served, below the bound ≥ 99.9% (3 failed of 2000, 2 allowed)'])
    expect(formatConsole(notMet)).toContain('NOT MET (2 failures allowed)')
    expect(formatConsole(notMet)).toContain('chaos: FAILED (exit 1)')
    expect(formatMarkdown(notMet)).toContain('| kv-leader-writes (kv-leader PUTs and DELETEs) | 2000 | 3 (0) | 99.85% | ≥ 99.9% | NOT MET (2 failures allowed) |')
  })

  it('fails a store that refuses every write after the first leader kill, however correct its history', () => {
    const r = buildReport(kvRun(1_000, (i, kind) => kind === 'write' && i * 10 >= 1_000))
    expect(r.ok).toBe(false)
    expect(r.problems.join('\n')).toContain('kv-leader-writes: 10.00% served')
  })

  it('counts an answer later than the client deadline as a failure, in the bound and in the workload figures', () => {
    const input = kvRun(500, () => false, { deadlineMs: 50 })
    const r = buildReport({ ...input, records: input.records.map((x, i) => i === 10 ? { ...x, complete: x.intended + 51 } : x) })
    expect(r.bounds.find((b) => b.name === 'kv-leader-writes')).toMatchObject({ failed: 1, late: 1, met: false })
    expect(r.workloads.find((w) => w.name === 'kv-leader')).toMatchObject({ failed: 1, failuresByCause: [{ cause: 'late (answered after the 50 ms deadline)', count: 1 }] })
  })

  it('fails the run when a failover never recovered', () => {
    const r = buildReport(kvRun(1_000, (i, kind) => kind === 'write' && i * 10 >= 1_000, { bounds: {} }))
    expect(r.failover.kvLeaderElection.missing).toBe(1)
    expect(r.problems).toEqual(['kv-leader election: 1 never recovered'])
    expect(buildReport({ ...kvRun(200, () => false), roleChanges: { samples: [], missing: 1 } }).problems).toEqual(['hot-warm role change: 1 never recovered'])
  })

  it('fails on an undecided invariant unless inconclusive results are allowed', () => {
    const inconclusive = { invariants: [{ name: 'kv-leader: linearizable', status: 'inconclusive' as const, detail: '1 key not decided' }] }
    expect(buildReport(kvRun(200, () => false, inconclusive)).ok).toBe(false)
    expect(buildReport(kvRun(200, () => false, { ...inconclusive, allowInconclusive: true })).ok).toBe(true)
  })

  it('parses --bound and refuses unknown names and bad values', () => {
    expect(parseBounds('echo=99.9, kv-leader-writes=95')).toEqual({ echo: 99.9, 'kv-leader-writes': 95 })
    expect(() => parseBounds('kv-leader=99')).toThrow(/names are/)
    expect(() => parseBounds('echo=101')).toThrow(/percent/)
    expect(() => parseBounds('echo=')).toThrow(/percent/)
    expect(evaluateBounds([], { echo: 99.99 }, 1_000, new Set())).toMatchObject([{ name: 'echo', met: null }])
  })
})

describe('loopback only', () => {
  it('accepts loopback targets, Sentinel lists included, and refuses anything else', async () => {
    const { assertLoopback } = await import('../../../scripts/chaos/adapters/cluster.js')
    for (const ok of ['http://127.0.0.1:8080', 'http://localhost:1/x', 'http://[::1]:8080', 'redis://127.0.0.1:6379', 'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.2:26380/mymaster']) expect(() => assertLoopback(ok), ok).not.toThrow()
    for (const bad of ['http://10.1.2.3:8080', 'http://example.com', 'redis+sentinel://127.0.0.1:26379,10.0.0.1:26379/m', 'http://127.0.0.1.evil.com/']) expect(() => assertLoopback(bad), bad).toThrow(/loopback/)
  })
})
