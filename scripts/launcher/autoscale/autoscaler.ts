import { request } from 'undici'
import { publishEvent } from '../../../shared/src/events.js'
import type { Redis } from '../../../shared/src/redis.js'
import type { Topology } from '../../../topology.js'
import { nextInstance } from '../plan.js'
import type { Supervisor } from '../supervisor.js'
import { decide, initialAutoscaleState, type AutoscalePolicy, type AutoscaleState } from './policy.js'

export interface AutoscalerOptions {
  supervisor: Supervisor
  topology: Topology
  gatewayUrl: string
  policies: ReadonlyMap<string, AutoscalePolicy>
  /** @default 1000 */
  intervalMs?: number
  redis?: Redis
  prefix: string
  print: (id: string, text: string) => void
}

/**
 * Reads the gateway's per-service latency (GET /stats) every interval and adds or gracefully
 * removes instances of the services it watches. New instances get traffic through the registry;
 * removed ones deregister and drain first, so scaling loses no request.
 */
export class Autoscaler {
  readonly #opts: AutoscalerOptions
  readonly #states = new Map<string, AutoscaleState>()
  #timer: NodeJS.Timeout | undefined
  #busy = false

  constructor (opts: AutoscalerOptions) {
    this.#opts = opts
  }

  start (): void {
    this.#timer = setInterval(() => { void this.tick() }, this.#opts.intervalMs ?? 1_000)
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  async tick (): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      const stats = await this.#stats()
      if (stats === undefined) return
      for (const [service, policy] of this.#opts.policies) {
        const traffic = stats.services[service]?.traffic
        const instances = this.#opts.supervisor.instancesOf(service).length
        const { state, decision } = decide(policy, this.#states.get(service) ?? initialAutoscaleState, {
          now: Date.now(), instances, p99Ms: traffic?.p99Ms ?? 0, rps: traffic?.rps ?? 0
        })
        this.#states.set(service, state)
        if (decision.action !== 'none') await this.#apply(service, decision.action, decision.reason, instances)
      }
    } finally {
      this.#busy = false
    }
  }

  async #apply (service: string, action: 'up' | 'down', reason: string, instances: number): Promise<void> {
    const { supervisor, topology, print, redis, prefix } = this.#opts
    if (action === 'up') {
      const plan = nextInstance(topology, service, supervisor.ids())
      print('autoscaler', `scale up ${service}: ${instances} → ${instances + 1} (${reason}); starting ${plan.id}`)
      if (redis !== undefined) publishEvent(redis, prefix, { type: 'scale-up', service, instance: plan.id, source: 'launcher', message: `${service} ${instances} → ${instances + 1}: ${reason}` })
      await supervisor.add(plan)
    } else {
      const victim = supervisor.instancesOf(service).sort((a, b) => b.id.localeCompare(a.id, undefined, { numeric: true }))[0]
      if (victim === undefined) return
      print('autoscaler', `scale down ${service}: ${instances} → ${instances - 1} (${reason}); stopping ${victim.id}`)
      if (redis !== undefined) publishEvent(redis, prefix, { type: 'scale-down', service, instance: victim.id, source: 'launcher', message: `${service} ${instances} → ${instances - 1}: ${reason}` })
      await supervisor.remove(victim.id)
    }
  }

  async #stats (): Promise<{ services: Record<string, { traffic: { p99Ms: number, rps: number } | null }> } | undefined> {
    try {
      const res = await request(`${this.#opts.gatewayUrl}/stats`, { headersTimeout: 1_000, bodyTimeout: 1_000 })
      if (res.statusCode !== 200) {
        await res.body.dump()
        return undefined
      }
      return await res.body.json() as { services: Record<string, { traffic: { p99Ms: number, rps: number } | null }> }
    } catch {
      return undefined
    }
  }
}
