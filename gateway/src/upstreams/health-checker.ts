import { Agent, request } from 'undici'
import type { Logger } from '../../../shared/src/logger.js'
import type { Router } from './router.js'
import type { Upstream } from './upstream.js'

export interface HealthCheckOptions {
  /** @default 500 */
  intervalMs: number
  /** @default 250 */
  timeoutMs: number
  log?: Logger
  onChange?: (upstream: Upstream, state: 'healthy' | 'unhealthy') => void
}

/**
 * Active health checks: GET /healthz on every instance each interval, on a dispatcher of its
 * own so probes never queue behind proxied traffic. A frozen instance times out, fails `fall`
 * probes and leaves rotation; after `rise` good probes it comes back and any ejection is lifted.
 */
export class HealthChecker {
  readonly #router: Router
  readonly #opts: HealthCheckOptions
  readonly #agent = new Agent({ connections: 2, keepAliveTimeout: 5_000 })
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor (router: Router, opts: HealthCheckOptions) {
    this.#router = router
    this.#opts = opts
  }

  start (): void {
    this.#running = true
    this.#loop()
  }

  async stop (): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    await this.#agent.close().catch(() => {})
  }

  async probeAll (): Promise<void> {
    await Promise.all([...this.#router.upstreams()].map(async (u) => await this.#probe(u)))
  }

  #loop (): void {
    if (!this.#running) return
    this.#timer = setTimeout(() => { void this.probeAll().finally(() => this.#loop()) }, this.#opts.intervalMs)
    this.#timer.unref()
  }

  async #probe (upstream: Upstream): Promise<void> {
    let passed = false
    try {
      const res = await request(`${upstream.url}/healthz`, {
        dispatcher: this.#agent,
        headersTimeout: this.#opts.timeoutMs,
        bodyTimeout: this.#opts.timeoutMs,
        signal: AbortSignal.timeout(this.#opts.timeoutMs)
      })
      await res.body.dump()
      passed = res.statusCode === 200
    } catch {
      passed = false
    }
    const change = upstream.health.observe(passed)
    if (change === undefined) return
    if (change === 'healthy') {
      upstream.outlier.readmit()
      upstream.admission.admit(Date.now()) // back after failing checks: slow start again
    }
    this.#opts.log?.warn({ instance: upstream.id, url: upstream.url, state: change }, 'health changed')
    this.#opts.onChange?.(upstream, change)
  }
}
