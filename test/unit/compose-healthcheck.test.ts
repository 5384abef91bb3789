import { describe, expect, it } from 'vitest'
import { healthcheckTiming, redisHealthcheckTiming, renderCompose } from '../../scripts/compose.js'
import { instanceSpecs, topology } from '../../topology.js'

interface Service { name: string, lines: string[] }

/** The services of a generated compose file, each with its lines (the file's shape is ours). */
function services (text: string): Service[] {
  const body = text.slice(text.indexOf('\nservices:\n'), text.indexOf('\nvolumes:\n'))
  const found: Service[] = []
  for (const line of body.split('\n')) {
    const name = /^ {2}([a-z0-9-]+):$/.exec(line)?.[1]
    if (name !== undefined) found.push({ name, lines: [] })
    else found.at(-1)?.lines.push(line)
  }
  return found
}

const healthcheckTest = (s: Service): string[] | undefined => {
  const line = s.lines.find((l) => l.startsWith('      test: '))
  return line === undefined ? undefined : JSON.parse(line.slice('      test: '.length)) as string[]
}
const seconds = (d: string): number => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN)

const text = renderCompose(topology)
const all = services(text)

describe('compose healthchecks', () => {
  it('every service has one', () => {
    expect(all.length).toBeGreaterThan(Object.keys(topology.services).length)
    for (const s of all) expect(healthcheckTest(s), s.name).toBeDefined()
  })

  it('no healthcheck starts a Node process (each would cost ~0.2 s of CPU: issue 18)', () => {
    for (const s of all) {
      const test = healthcheckTest(s)!
      expect(test[0], s.name).toBe('CMD')
      const program = test[1]
      expect(['bash', 'redis-cli'], `${s.name}: ${JSON.stringify(test)}`).toContain(program)
      // a shell script must not start node, npm or npx either
      for (const word of test.slice(2).join(' ').split(/[^\w.-]+/)) expect(['node', 'nodejs', 'npm', 'npx'], s.name).not.toContain(word)
    }
  })

  it("a Node service's check asks its own /healthz on the port it listens on, and wants a 200", () => {
    const gateway = all.find((s) => s.name === 'gateway')!
    expect(healthcheckTest(gateway)![3]).toContain(`/dev/tcp/127.0.0.1/${topology.gateway.port} `)
    const echo = all.find((s) => s.name === 'echo')!
    const script = healthcheckTest(echo)![3]!
    expect(script).toContain('/dev/tcp/127.0.0.1/3000 ')
    expect(script).toContain('GET /healthz HTTP/1.0')
    expect(script).toContain("== *' 200 '*")
  })

  it('the default topology costs Docker at most one healthcheck exec a second (~45 ms of CPU each)', () => {
    // containers of the default profile: redis, the gateway and every instance
    const instances = Object.entries(topology.services).reduce((n, [service, spec]) => n + instanceSpecs(service, spec).length, 0)
    const interval = seconds(healthcheckTiming.interval)
    expect(1 / seconds(redisHealthcheckTiming.interval) + (1 + instances) / interval).toBeLessThanOrEqual(1)
    expect(seconds(healthcheckTiming.timeout)).toBeLessThan(interval)
    for (const s of all) {
      const timing = Object.fromEntries(s.lines.filter((l) => /^ {6}(interval|timeout|start_period):/.test(l)).map((l) => l.trim().split(': ')))
      expect(seconds(timing.timeout), s.name).toBeLessThanOrEqual(seconds(timing.interval))
      expect(seconds(timing.interval), s.name).toBeGreaterThanOrEqual(5)
    }
  })
})
