import { builtEntry, instanceSpecs, type Topology } from '../../topology.js'

/** One process the launcher runs. */
export interface ProcessPlan {
  id: string
  service: string
  /** Built JS entry, relative to the project root. */
  entry: string
  env: Record<string, string>
  scalable: boolean
}

/** Turns the topology into the processes to start: the gateway first, then every instance. */
export function planProcesses (topology: Topology, only?: readonly string[]): ProcessPlan[] {
  const plans: ProcessPlan[] = [{ id: 'gateway-1', service: 'gateway', entry: 'dist/gateway/src/server.js', env: {}, scalable: false }]
  for (const [service, spec] of Object.entries(topology.services)) {
    if (only !== undefined && !only.includes(service)) continue
    for (const instance of instanceSpecs(service, spec)) {
      plans.push({ id: instance.id, service, entry: builtEntry(spec), env: { ...spec.env, ...instance.env }, scalable: spec.scalable })
    }
  }
  return plans
}

/** The plan for one more instance of a scalable service: the lowest free `<service>-N`. */
export function nextInstance (topology: Topology, service: string, taken: ReadonlySet<string>): ProcessPlan {
  const spec = topology.services[service]
  if (spec === undefined) throw new Error(`unknown service "${service}"`)
  let n = 1
  while (taken.has(`${service}-${n}`)) n += 1
  return { id: `${service}-${n}`, service, entry: builtEntry(spec), env: { ...spec.env }, scalable: spec.scalable }
}

/**
 * The launcher's own settings, never passed down: `PORT=18080 npm start` (the README's variable
 * for the gateway's port) once gave every child that port, so echo-1 took the gateway's and every
 * other process crash-looped on it. The gateway gets its port and host explicitly (main.ts).
 */
const launcherOnly = ['PORT', 'HOST', 'CONTROL_PORT']

/** A child's environment: the launcher's, minus its own settings, plus `layers` in order. */
export function childEnv (inherited: NodeJS.ProcessEnv, ...layers: Array<Readonly<Record<string, string>>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(inherited)) if (value !== undefined && !launcherOnly.includes(name)) env[name] = value
  for (const layer of layers) Object.assign(env, layer)
  return env
}
