import { describe, expect, it } from 'vitest'
import type { OpRecord } from '../../../scripts/chaos/core/history.js'
import { formatConsole, formatMarkdown } from '../../../scripts/chaos/format.js'
import { buildReport } from '../../../scripts/chaos/report.js'
import { chaosWorkloads, errorCause, parseRates } from '../../../scripts/chaos/workloads.js'

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

describe('workloads', () => {
  it('reads the error code of a JSON envelope into the failure cause', () => {
    expect(errorCause(503, '{"error":"GW_ERR_NO_UPSTREAM","message":"none"}')).toBe('http 503 GW_ERR_NO_UPSTREAM')
    expect(errorCause(500, 'oops')).toBe('http 500')
  })

  it('takes a service 404 as "not found" but the gateway\'s 404 as a failure', () => {
    const kv = chaosWorkloads('t').find((w) => w.name === 'kv-leader')!
    const read = { method: 'GET' as const, path: '/api/kv-leader/keys/k', kind: 'read' as const, key: 'k' }
    expect(kv.interpret(read, 200, 'v1')).toEqual({ outcome: 'ok', output: 'v1' })
    expect(kv.interpret(read, 404, '{"error":"KVL_ERR_NOT_FOUND"}')).toEqual({ outcome: 'ok', output: null })
    expect(kv.interpret(read, 404, '{"error":"GW_ERR_UNKNOWN_SERVICE"}').outcome).toBe('fail')
    const del = { ...read, method: 'DELETE' as const, kind: 'delete' as const }
    expect(kv.interpret(del, 204, '')).toEqual({ outcome: 'ok', found: true })
    expect(kv.interpret(del, 404, '{"error":"KVL_ERR_NOT_FOUND"}')).toEqual({ outcome: 'ok', found: false })
  })

  it('writes unique values and parses rate overrides', () => {
    const kv = chaosWorkloads('run1').find((w) => w.name === 'kv-quorum')!
    let n = 0
    const random = (): number => [0.1, 0.6][n++ % 2]!
    const values = new Set(Array.from({ length: 50 }, (_, i) => kv.next(i, random).value).filter(Boolean))
    expect(values.size).toBe(50)
    expect(parseRates('echo=10, kv-leader=2.5')).toEqual({ echo: 10, 'kv-leader': 2.5 })
    expect(() => parseRates('echo=-1')).toThrow(/bad rate/)
  })
})

describe('loopback only', () => {
  it('accepts loopback targets, Sentinel lists included, and refuses anything else', async () => {
    const { assertLoopback } = await import('../../../scripts/chaos/adapters/cluster.js')
    for (const ok of ['http://127.0.0.1:8080', 'http://localhost:1/x', 'http://[::1]:8080', 'redis://127.0.0.1:6379', 'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.2:26380/mymaster']) expect(() => assertLoopback(ok), ok).not.toThrow()
    for (const bad of ['http://10.1.2.3:8080', 'http://example.com', 'redis+sentinel://127.0.0.1:26379,10.0.0.1:26379/m', 'http://127.0.0.1.evil.com/']) expect(() => assertLoopback(bad), bad).toThrow(/loopback/)
  })
})
