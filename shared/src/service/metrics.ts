import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

/**
 * How often the event-loop delay histogram samples the loop. prom-client's default (10 ms) is a
 * timer firing 100 times a second in every process: about 0.3 % of a core each, the largest
 * single cost of an idle cluster (bench:idle). A blocked loop still shows up in full at 100 ms:
 * the sample after it is late by the whole block.
 */
const eventLoopSampleMs = 100

/** One Prometheus registry per app (not the global one), so tests can run several apps in one process. */
export function createMetricsRegistry (labels: Record<string, string>): Registry {
  const registry = new Registry()
  registry.setDefaultLabels(labels)
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: eventLoopSampleMs })
  return registry
}

/** Seconds buckets from 0.5 ms to 10 s: wide enough for cache hits and slow CPU work alike. */
export const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function httpServerMetrics (registry: Registry): { requests: Counter<'method' | 'route' | 'status'>, duration: Histogram<'method' | 'route'> } {
  return {
    requests: new Counter({ name: 'http_server_requests_total', help: 'HTTP requests served, by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    duration: new Histogram({ name: 'http_server_request_duration_seconds', help: 'Time to serve a request', labelNames: ['method', 'route'], buckets: latencyBuckets, registers: [registry] })
  }
}
