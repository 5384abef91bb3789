import { Counter, Histogram, type Registry } from 'prom-client'
import { latencyBuckets } from '../../shared/src/service/metrics.js'

/** What the proxy records; `noMetrics` records nothing (GW_METRICS=off, for measuring their cost). */
export interface ProxyMetrics {
  request: (service: string, status: number, seconds: number) => void
  pick: (service: string, instance: string) => void
  retry: (service: string) => void
  upstreamError: (service: string, cause: string) => void
  ejection: (service: string, instance: string) => void
}

export const noMetrics: ProxyMetrics = { request: () => {}, pick: () => {}, retry: () => {}, upstreamError: () => {}, ejection: () => {} }

/**
 * The gateway's own series. Labelled children are looked up once and kept: on the proxy's hot
 * path a Map hit is far cheaper than prom-client hashing the label object on every request.
 */
export class GatewayMetrics implements ProxyMetrics {
  readonly #requests: Counter<'service' | 'status'>
  readonly #duration: Histogram<'service'>
  readonly #picks: Counter<'service' | 'instance'>
  readonly #retries: Counter<'service'>
  readonly #upstreamErrors: Counter<'service' | 'cause'>
  readonly #ejections: Counter<'service' | 'instance'>
  readonly #children = new Map<string, { inc: () => void } | { observe: (v: number) => void }>()

  constructor (registry: Registry) {
    const registers = [registry]
    this.#requests = new Counter({ name: 'gateway_requests_total', help: 'Proxied requests by service and final status', labelNames: ['service', 'status'], registers })
    this.#duration = new Histogram({ name: 'gateway_request_duration_seconds', help: 'Proxied request time, retries included', labelNames: ['service'], buckets: latencyBuckets, registers })
    this.#picks = new Counter({ name: 'gateway_balancer_picks_total', help: 'Tries sent to each instance', labelNames: ['service', 'instance'], registers })
    this.#retries = new Counter({ name: 'gateway_retries_total', help: 'Tries repeated on another instance', labelNames: ['service'], registers })
    this.#upstreamErrors = new Counter({ name: 'gateway_upstream_errors_total', help: 'Failed tries by cause', labelNames: ['service', 'cause'], registers })
    this.#ejections = new Counter({ name: 'gateway_ejections_total', help: 'Outlier ejections', labelNames: ['service', 'instance'], registers })
  }

  request (service: string, status: number, seconds: number): void {
    this.#counter(this.#requests, 'r', service, String(status)).inc()
    this.#histogram(service).observe(seconds)
  }

  pick (service: string, instance: string): void { this.#counter(this.#picks, 'p', service, instance).inc() }
  retry (service: string): void { this.#retries.inc({ service }) }
  upstreamError (service: string, cause: string): void { this.#upstreamErrors.inc({ service, cause }) }
  ejection (service: string, instance: string): void { this.#ejections.inc({ service, instance }) }

  #counter (counter: Counter<string>, kind: string, a: string, b: string): { inc: () => void } {
    const key = `${kind}\u0000${a}\u0000${b}`
    let child = this.#children.get(key) as { inc: () => void } | undefined
    if (child === undefined) {
      child = counter.labels(a, b)
      this.#children.set(key, child)
    }
    return child
  }

  #histogram (service: string): { observe: (v: number) => void } {
    const key = `d\u0000${service}`
    let child = this.#children.get(key) as { observe: (v: number) => void } | undefined
    if (child === undefined) {
      child = this.#duration.labels(service)
      this.#children.set(key, child)
    }
    return child
  }
}
