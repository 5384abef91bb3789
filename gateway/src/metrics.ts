import { Counter, type Registry } from 'prom-client'
import { latencyBuckets } from '../../shared/src/service/metrics.js'
import { HotCounter, HotHistogram, type HistogramCell } from './hot-metrics.js'
import type { HedgeEvent } from './resilience/hedge-policy.js'

/** What the proxy records; `noMetrics` records nothing (GW_METRICS=off, for measuring their cost). */
export interface ProxyMetrics {
  request: (service: string, status: number, seconds: number) => void
  pick: (service: string, instance: string) => void
  retry: (service: string) => void
  upstreamError: (service: string, cause: string) => void
  ejection: (service: string, instance: string) => void
  /** A hedge was sent, answered first, paid (its rival still silent a hedge delay later), or was due but refused by the hedging budget or held back while hedges do not pay. */
  hedge: (service: string, event: HedgeEvent) => void
}

export const noMetrics: ProxyMetrics = { request: () => {}, pick: () => {}, retry: () => {}, upstreamError: () => {}, ejection: () => {}, hedge: () => {} }

/** The labelled cells of one service, found without building a key string per request. */
interface ServiceCells {
  byStatus: Map<number, { value: number }>
  byInstance: Map<string, { value: number }>
  duration: HistogramCell
}

/**
 * The gateway's own series. The per-request ones (requests, duration, picks) are hot-path
 * metrics kept as plain numbers per service (see hot-metrics.ts); the rare ones use prom-client
 * as is. The metrics cost is measured by bench:gateway against GW_METRICS=off.
 */
export class GatewayMetrics implements ProxyMetrics {
  readonly #requests: HotCounter
  readonly #duration: HotHistogram
  readonly #picks: HotCounter
  readonly #retries: Counter<'service'>
  readonly #upstreamErrors: Counter<'service' | 'cause'>
  readonly #ejections: Counter<'service' | 'instance'>
  readonly #hedges: Counter<'service' | 'event'>
  readonly #services = new Map<string, ServiceCells>()

  constructor (registry: Registry) {
    const registers = [registry]
    this.#requests = new HotCounter({ name: 'gateway_requests_total', help: 'Proxied requests by service and final status', labelNames: ['service', 'status'], registry })
    this.#duration = new HotHistogram({ name: 'gateway_request_duration_seconds', help: 'Proxied request time, retries included', labelNames: ['service'], buckets: latencyBuckets, registry })
    this.#picks = new HotCounter({ name: 'gateway_balancer_picks_total', help: 'Tries sent to each instance', labelNames: ['service', 'instance'], registry })
    this.#retries = new Counter({ name: 'gateway_retries_total', help: 'Tries repeated on another instance', labelNames: ['service'], registers })
    this.#upstreamErrors = new Counter({ name: 'gateway_upstream_errors_total', help: 'Failed tries by cause', labelNames: ['service', 'cause'], registers })
    this.#ejections = new Counter({ name: 'gateway_ejections_total', help: 'Outlier ejections', labelNames: ['service', 'instance'], registers })
    this.#hedges = new Counter({ name: 'gateway_hedges_total', help: 'Hedged requests: second tries sent, won (answered first), paid (won while the raced try was still silent a hedge delay later), denied by the hedging budget, paused (held back while too few hedges pay)', labelNames: ['service', 'event'], registers })
  }

  request (service: string, status: number, seconds: number): void {
    const cells = this.#cells(service)
    let counter = cells.byStatus.get(status)
    if (counter === undefined) {
      counter = this.#requests.cell(service, String(status))
      cells.byStatus.set(status, counter)
    }
    counter.value += 1
    this.#duration.observe(cells.duration, seconds)
  }

  pick (service: string, instance: string): void {
    const cells = this.#cells(service)
    let counter = cells.byInstance.get(instance)
    if (counter === undefined) {
      counter = this.#picks.cell(service, instance)
      cells.byInstance.set(instance, counter)
    }
    counter.value += 1
  }

  // rare events: prom-client's label-object form is fine
  retry (service: string): void { this.#retries.inc({ service }) }
  upstreamError (service: string, cause: string): void { this.#upstreamErrors.inc({ service, cause }) }
  ejection (service: string, instance: string): void { this.#ejections.inc({ service, instance }) }
  hedge (service: string, event: HedgeEvent): void { this.#hedges.inc({ service, event }) }

  #cells (service: string): ServiceCells {
    let cells = this.#services.get(service)
    if (cells === undefined) {
      cells = { byStatus: new Map(), byInstance: new Map(), duration: this.#duration.cell(service) }
      this.#services.set(service, cells)
    }
    return cells
  }
}
