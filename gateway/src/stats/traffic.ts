import { RollingLatency, type WindowSnapshot } from './rolling-latency.js'

/** Live request rate and latency per service and per instance, as the gateway sees them. */
export class Traffic {
  readonly #services = new Map<string, RollingLatency>()
  readonly #instances = new Map<string, RollingLatency>()

  recordRequest (service: string, now: number, latencyMs: number, ok: boolean): void {
    this.#window(this.#services, service).record(now, latencyMs, ok)
  }

  recordTry (instance: string, now: number, latencyMs: number, ok: boolean): void {
    this.#window(this.#instances, instance).record(now, latencyMs, ok)
  }

  service (name: string, now: number): WindowSnapshot | undefined {
    return this.#services.get(name)?.snapshot(now)
  }

  /** The service's request latency at percentile `q` over the window, and the requests it is drawn from. */
  servicePercentile (name: string, now: number, q: number): { percentileMs: number, count: number } {
    return this.#services.get(name)?.percentile(now, q) ?? { percentileMs: 0, count: 0 }
  }

  instance (id: string, now: number): WindowSnapshot | undefined {
    return this.#instances.get(id)?.snapshot(now)
  }

  #window (map: Map<string, RollingLatency>, key: string): RollingLatency {
    let w = map.get(key)
    if (w === undefined) {
      w = new RollingLatency()
      map.set(key, w)
    }
    return w
  }
}
