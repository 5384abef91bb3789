/**
 * The pure half of the compose smoke test (scripts/docker/smoke.sh): what the README's curl tour
 * is, and what a correct /registry looks like for a topology running in containers. No I/O here;
 * main.ts feeds these with what it reads from Docker and the gateway.
 */
import { instanceSpecs, type Topology } from '../../../topology.js'

export interface TourStep {
  /** The line as the README has it, run by bash with `curl` wrapped to record the status. */
  command: string
  /** The status the line must get: a 2xx, or the one it asks for with `status=NNN`. */
  expect: number | '2xx'
}

/**
 * The curl lines of the README's "Try it" section, in order. A line with a `<id>` placeholder is
 * run with the id of the response before it (the async job it created).
 */
export function readmeTour (readme: string): TourStep[] {
  const start = readme.indexOf('\n## Try it')
  if (start < 0) throw new Error('README has no "## Try it" section')
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end < 0 ? undefined : end)
  const steps: TourStep[] = []
  let inBash = false
  for (const line of section.split('\n')) {
    if (line.startsWith('```')) {
      inBash = line === '```bash'
      continue
    }
    if (!inBash || !line.startsWith('curl ')) continue
    const asked = /[?&]status=(\d{3})\b/.exec(line)
    steps.push({ command: line, expect: asked !== null ? Number(asked[1]) : '2xx' })
  }
  return steps
}

/** The command with its `<id>` placeholder filled, or undefined when it needs an id it lacks. */
export function fillId (command: string, lastId: string | undefined): string | undefined {
  if (!command.includes('<id>')) return command
  if (lastId === undefined || !/^[\w-]+$/.test(lastId)) return undefined
  return command.replaceAll('<id>', lastId)
}

export function statusMatches (status: number, expect: TourStep['expect']): boolean {
  return expect === '2xx' ? status >= 200 && status < 300 : status === expect
}

export interface RegistryInstance {
  id: string
  url: string
  role?: string
  healthy?: boolean
  startedAt?: number
  meta?: Record<string, unknown>
}

export interface RegistryView {
  services: Record<string, RegistryInstance[]>
}

/**
 * What is wrong with /registry for a topology running in containers: every instance of the
 * topology registered, healthy, at the address of one of the project's containers on the port
 * instances listen on in their container, no two instances at one address. Empty when all is well.
 */
export function registryProblems (t: Topology, registry: RegistryView, containerIps: ReadonlySet<string>, port: number): string[] {
  const problems: string[] = []
  const seen = new Map<string, string>()
  for (const [service, spec] of Object.entries(t.services)) {
    const instances = registry.services[service] ?? []
    if (typeof spec.instances === 'number') {
      if (instances.length !== spec.instances) problems.push(`${service}: ${instances.length} instances registered, the topology has ${spec.instances}`)
    } else {
      for (const { id } of instanceSpecs(service, spec)) {
        if (!instances.some((i) => i.id === id)) problems.push(`${id}: not registered`)
      }
    }
    for (const instance of instances) {
      let url: URL
      try {
        url = new URL(instance.url)
      } catch {
        problems.push(`${instance.id}: url ${JSON.stringify(instance.url)} is not a URL`)
        continue
      }
      if (!containerIps.has(url.hostname)) problems.push(`${instance.id}: ${url.hostname} is no container of the project`)
      if (url.port !== String(port)) problems.push(`${instance.id}: port ${url.port}, instances listen on ${port} in their container`)
      if (instance.healthy !== true) problems.push(`${instance.id}: not healthy`)
      const other = seen.get(url.host)
      if (other !== undefined) problems.push(`${instance.id} and ${other} both at ${url.host}`)
      seen.set(url.host, instance.id)
    }
  }
  return problems
}

/** The highest kv-leader epoch in the registry: each election raises it by one. */
export function leaderEpoch (registry: RegistryView, service = 'kv-leader'): number {
  let epoch = 0
  for (const instance of registry.services[service] ?? []) {
    const e = instance.meta?.epoch
    if (typeof e === 'number' && e > epoch) epoch = e
  }
  return epoch
}
