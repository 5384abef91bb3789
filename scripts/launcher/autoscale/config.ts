import { integer, loadConfig, number, type Env } from '../../../shared/src/config.js'
import { instanceSpecs, type Topology } from '../../../topology.js'
import type { AutoscalePolicy } from './policy.js'

const spec = {
  targetP99Ms: number('NINES_AUTOSCALE_TARGET_P99_MS', 0, { min: 0, max: 600_000 }),
  upWindowMs: integer('NINES_AUTOSCALE_UP_WINDOW_MS', 3_000, { min: 0, max: 3_600_000 }),
  downWindowMs: integer('NINES_AUTOSCALE_DOWN_WINDOW_MS', 15_000, { min: 0, max: 3_600_000 }),
  cooldownMs: integer('NINES_AUTOSCALE_COOLDOWN_MS', 5_000, { min: 0, max: 3_600_000 }),
  max: integer('NINES_AUTOSCALE_MAX', 0, { min: 0, max: 32 }),
  quietRpsPerInstance: number('NINES_AUTOSCALE_QUIET_RPS', 5, { min: 0, max: 1_000_000 })
}

/**
 * The policy for each service named in `--autoscale`: bounds and target from the topology,
 * windows (and optionally target and max) from the environment. Only scalable services qualify.
 */
export function autoscalePolicies (topology: Topology, services: readonly string[], env: Env = process.env): Map<string, AutoscalePolicy> {
  const overrides = loadConfig(spec, env)
  const policies = new Map<string, AutoscalePolicy>()
  for (const service of services) {
    const s = topology.services[service]
    if (s === undefined || !s.scalable) throw new Error(`cannot autoscale "${service}": not a scalable service of the topology`)
    const min = s.autoscale?.min ?? instanceSpecs(service, s).length
    policies.set(service, {
      min,
      max: overrides.max > 0 ? overrides.max : s.autoscale?.max ?? Math.min(8, min * 3),
      targetP99Ms: overrides.targetP99Ms > 0 ? overrides.targetP99Ms : s.autoscale?.targetP99Ms ?? 50,
      upWindowMs: overrides.upWindowMs,
      downWindowMs: overrides.downWindowMs,
      cooldownMs: overrides.cooldownMs,
      quietRpsPerInstance: overrides.quietRpsPerInstance
    })
  }
  return policies
}
