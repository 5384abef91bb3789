import { describe, expect, it } from 'vitest'
import type { OpRecord } from '../../../scripts/chaos/core/history.js'
import { formatConsole, formatMarkdown } from '../../../scripts/chaos/format.js'
import { buildReport } from '../../../scripts/chaos/report.js'
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
    expect(text).toContain('chaos: every invariant held')
    const md = formatMarkdown(report)
    expect(md).toContain('| echo * | 10000 | 2 | 100/s | 99.98% (3 nines) |')
    expect(md).toContain('| 4 | 99.99% | 8.64 s | 4.32 min | 52.6 min |')
  })

  function reportInputFailing (): Parameters<typeof buildReport>[0] {
    return { startedAt: new Date(), command: '', seed: 1, durationS: 1, gatewayUrl: 'x', present: new Set(), workloads: [], records: [], faults: [], takeovers: { samples: [], missing: 0 }, roleChanges: { samples: [], missing: 0 }, invariants: [{ name: 'x', status: 'violated', detail: '' }] }
  }
})

describe('loopback only', () => {
  it('accepts loopback targets, Sentinel lists included, and refuses anything else', async () => {
    const { assertLoopback } = await import('../../../scripts/chaos/adapters/cluster.js')
    for (const ok of ['http://127.0.0.1:8080', 'http://localhost:1/x', 'http://[::1]:8080', 'redis://127.0.0.1:6379', 'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.2:26380/mymaster']) expect(() => assertLoopback(ok), ok).not.toThrow()
    for (const bad of ['http://10.1.2.3:8080', 'http://example.com', 'redis+sentinel://127.0.0.1:26379,10.0.0.1:26379/m', 'http://127.0.0.1.evil.com/']) expect(() => assertLoopback(bad), bad).toThrow(/loopback/)
  })
})
