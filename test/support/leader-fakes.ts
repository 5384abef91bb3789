import type { FastifyReply, FastifyRequest } from 'fastify'
import { request } from 'undici'
import { createRedis } from '../../shared/src/redis.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { startFakeInstance, type FakeInstance } from './fake-instance.js'

/** The service the fixture's instances register as, with kv-leader's routing policy. */
const fakeService = 'kvfake'
const leaderRouted = { routing: 'leader' as const, balancer: 'least-outstanding' as const }

export interface LeaderFakes {
  redis: TestRedis
  instance: (id: string) => FakeInstance
  /** The role the gateway's registry shows for an instance. */
  roleOf: (gatewayUrl: string, id: string) => Promise<string | undefined>
  stop: () => Promise<void>
}

/**
 * A Redis and scripted instances of one leader-routed service (kv-leader's routing policy), each
 * with its role and its answer to `PUT /k`: the fixture of the gateway's leader-routing tests.
 */
export async function startLeaderFakes (prefix: string, specs: Record<string, { role: string, put: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> }>): Promise<LeaderFakes> {
  const redis = await startRedis()
  const client = createRedis(redis.url)
  const instances: Record<string, FakeInstance> = {}
  for (const [id, spec] of Object.entries(specs)) {
    instances[id] = await startFakeInstance(client, prefix, { id, service: fakeService, role: spec.role, policy: leaderRouted }, (app) => {
      app.put('/k', spec.put)
    })
  }
  return {
    redis,
    instance: (id) => {
      const found = instances[id]
      if (found === undefined) throw new Error(`no fake instance ${id}`)
      return found
    },
    roleOf: async (gatewayUrl, id) => {
      const res = await request(`${gatewayUrl}/registry`)
      const listed = ((await res.body.json()) as { services: Record<string, Array<{ id: string, role: string }>> }).services[fakeService] ?? []
      return listed.find((i) => i.id === id)?.role
    },
    stop: async () => {
      for (const instance of Object.values(instances)) await instance.stop().catch(() => {})
      client.disconnect()
      killAll() // the gateway the test started too
      await redis.stop()
    }
  }
}
