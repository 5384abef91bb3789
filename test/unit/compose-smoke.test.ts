import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fillId, leaderEpoch, readmeTour, registryProblems, statusMatches, type RegistryView } from '../../scripts/docker/smoke/checks.js'
import type { Topology } from '../../topology.js'

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8')

describe('the README tour the compose smoke test runs', () => {
  const tour = readmeTour(readme)

  it('is every curl line of "Try it", in order, and nothing else', () => {
    expect(tour.length).toBeGreaterThanOrEqual(10)
    for (const step of tour) expect(step.command).toMatch(/^curl /)
    expect(tour[0]!.command).toContain('/api/echo/hello')
    expect(tour.some((s) => s.command.includes('/api/kv-leader/keys/k1'))).toBe(true)
    expect(tour.some((s) => s.command.includes('autocannon') || s.command.startsWith('npm'))).toBe(false)
  })

  it('expects the status a line asks for, else a 2xx', () => {
    const slow = tour.find((s) => s.command.includes('status=503'))
    expect(slow?.expect).toBe(503)
    expect(tour.find((s) => s.command.includes('/readyz'))?.expect).toBe('2xx')
    expect(statusMatches(204, '2xx')).toBe(true)
    expect(statusMatches(503, '2xx')).toBe(false)
    expect(statusMatches(503, 503)).toBe(true)
  })

  it('fills <id> with the id of the job created just before, and refuses to guess one', () => {
    const job = tour.find((s) => s.command.includes('<id>'))!
    expect(fillId(job.command, 'abc-123')).toContain('/api/compute/jobs/abc-123')
    expect(fillId(job.command, undefined)).toBeUndefined()
    expect(fillId(job.command, 'x; rm -rf /')).toBeUndefined()
    expect(fillId('curl 127.0.0.1:8080/readyz', undefined)).toBe('curl 127.0.0.1:8080/readyz')
  })

  it('fails loudly on a README without the section', () => {
    expect(() => readmeTour('# nines\n')).toThrow(/Try it/)
  })
})

describe('registryProblems', () => {
  const t: Topology = {
    gateway: { port: 8080 },
    services: {
      echo: { entry: 'services/echo/src/server.ts', instances: 2, scalable: true },
      kv: { entry: 'services/kv/src/server.ts', instances: [{ id: 'kv-1' }, { id: 'kv-2' }], scalable: false }
    }
  }
  const ips = new Set(['172.18.0.2', '172.18.0.3', '172.18.0.4', '172.18.0.5'])
  const instance = (id: string, host: string, healthy = true): RegistryView['services'][string][number] => ({ id, url: `http://${host}`, healthy })
  const good: RegistryView = {
    services: {
      echo: [instance('echo-a', '172.18.0.2:3000'), instance('echo-b', '172.18.0.3:3000')],
      kv: [instance('kv-1', '172.18.0.4:3000'), instance('kv-2', '172.18.0.5:3000')]
    }
  }
  const withService = (service: string, instances: RegistryView['services'][string]): RegistryView => ({ services: { ...good.services, [service]: instances } })

  it.each([
    ['all registered at container addresses', good, []],
    ['a replica missing', withService('echo', [instance('echo-a', '172.18.0.2:3000')]), ['echo: 1 instances registered, the topology has 2']],
    ['a named instance missing', withService('kv', [instance('kv-1', '172.18.0.4:3000')]), ['kv-2: not registered']],
    ['a loopback address (not the container\'s)', withService('kv', [instance('kv-1', '127.0.0.1:3000'), instance('kv-2', '172.18.0.5:3000')]), ['kv-1: 127.0.0.1 is no container of the project']],
    ['another port', withService('kv', [instance('kv-1', '172.18.0.4:41234'), instance('kv-2', '172.18.0.5:3000')]), ['kv-1: port 41234, instances listen on 3000 in their container']],
    ['an unhealthy instance', withService('kv', [instance('kv-1', '172.18.0.4:3000', false), instance('kv-2', '172.18.0.5:3000')]), ['kv-1: not healthy']],
    ['two at one address', withService('kv', [instance('kv-1', '172.18.0.4:3000'), instance('kv-2', '172.18.0.4:3000')]), ['kv-2 and kv-1 both at 172.18.0.4:3000']],
    ['a service absent', { services: { echo: good.services.echo! } }, ['kv-1: not registered', 'kv-2: not registered']]
  ] as const)('%s', (_, view, expected) => {
    expect(registryProblems(t, view as RegistryView, ips, 3000)).toEqual(expected)
  })
})

describe('leaderEpoch', () => {
  it('is the highest epoch a kv-leader replica publishes, 0 without any', () => {
    expect(leaderEpoch({ services: { 'kv-leader': [{ id: 'a', url: '', meta: { epoch: 3 } }, { id: 'b', url: '', meta: { epoch: 4 } }, { id: 'c', url: '' }] } })).toBe(4)
    expect(leaderEpoch({ services: {} })).toBe(0)
  })
})
