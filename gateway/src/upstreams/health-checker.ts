import { Agent, request } from 'undici'
import type { Logger } from '../../../shared/src/logger.js'
import type { Router } from './router.js'
import type { Upstream } from './upstream.js'

export interface HealthCheckOptions {
  /** Between checks of an instance whose last check passed. @default 1000 */
  intervalMs: number
  /** Between checks of an instance whose last check failed, or that is out of rotation. @default 250 */
  fastIntervalMs: number
  /** @default 250 */
  timeoutMs: number
  log?: Logger
  onChange?: (upstream: Upstream, state: 'healthy' | 'unhealthy') => void
}

/**
 * Active health checks: GET /healthz on every instance, on a dispatcher of its own so probes
 * never queue behind proxied traffic. Like HAProxy's `inter`/`fastinter`, an instance that keeps
 * passing is checked at the (slower) interval, and one whose check just failed, or that is out of
 * rotation, at the fast interval: a frozen instance still fails `fall` checks quickly and a
 * thawed one passes `rise` checks quickly, while an idle cluster is not probed 40 times a second.
 */
export class HealthChecker {
  readonly #router: Router
  readonly #opts: HealthCheckOptions
  readonly #agent = new Agent({ connections: 2, keepAliveTimeout: 5_000 })
  /** When each instance is due its next check; unknown instances are due at once. */
  readonly #due = new WeakMap<Upstream, number>()
  readonly #probing = new WeakSet<Upstream>()
  readonly #tickMs: number
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor (router: Router, opts: HealthCheckOptions) {
    this.#router = router
    this.#opts = opts
    this.#tickMs = Math.min(opts.intervalMs, opts.fastIntervalMs)
  }

  start (): void {
    this.#running = true
    this.#timer = setInterval(() => { this.#checkDue(Date.now()) }, this.#tickMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    this.#running = false
    clearInterval(this.#timer)
    await this.#agent.close().catch(() => {})
  }

  #checkDue (now: number): void {
    if (!this.#running) return
    for (const upstream of this.#router.upstreams()) {
      if (this.#probing.has(upstream) || (this.#due.get(upstream) ?? 0) > now) continue
      void this.#probe(upstream)
    }
  }

  async #probe (upstream: Upstream): Promise<void> {
    this.#probing.add(upstream)
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
    } finally {
      this.#probing.delete(upstream)
    }
    const change = upstream.health.observe(passed)
    const steady = passed && upstream.health.healthy
    this.#due.set(upstream, Date.now() + (steady ? this.#opts.intervalMs : this.#opts.fastIntervalMs))
    if (change === undefined) return
    if (change === 'healthy') {
      upstream.outlier.readmit()
      upstream.admitted(Date.now()) // back after failing checks: slow start again, latency forgotten
    }
    this.#opts.log?.warn({ instance: upstream.id, url: upstream.url, state: change }, 'health changed')
    this.#opts.onChange?.(upstream, change)
  }
}
