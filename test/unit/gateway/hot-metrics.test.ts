import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HotCounter, HotHistogram } from '../../../gateway/src/hot-metrics.js'
import { parsePrometheus } from '../../../shared/testing/prometheus.js'

describe('hot-path metrics', () => {
  it('render as Prometheus counters and cumulative histograms, with the default labels', async () => {
    const registry = new Registry()
    registry.setDefaultLabels({ instance: 'gw-1' })
    const counter = new HotCounter({ name: 'x_requests_total', help: 'h', labelNames: ['service', 'status'], registry })
    const histogram = new HotHistogram({ name: 'x_seconds', help: 'h', labelNames: ['service'], buckets: [0.01, 0.1, 1], registry })
    const ok = counter.cell('echo', '200')
    ok.value += 3
    counter.cell('echo', '502').value += 1
    const cell = histogram.cell('echo')
    for (const v of [0.005, 0.05, 0.05, 5]) histogram.observe(cell, v)

    const samples = parsePrometheus(await registry.metrics())
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
    expect(value('x_requests_total', { service: 'echo', status: '200', instance: 'gw-1' })).toBe(3)
    expect(value('x_requests_total', { status: '502' })).toBe(1)
    expect(value('x_seconds_bucket', { le: '0.01' })).toBe(1)
    expect(value('x_seconds_bucket', { le: '0.1' })).toBe(3)
    expect(value('x_seconds_bucket', { le: '1' })).toBe(3)
    expect(value('x_seconds_bucket', { le: '+Inf' })).toBe(4)
    expect(value('x_seconds_count', { service: 'echo' })).toBe(4)
    expect(value('x_seconds_sum', { service: 'echo' })).toBeCloseTo(5.105)
  })
})
