import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Redis } from '../../shared/src/redis.js'
import { Registrar } from '../../shared/src/registry/registrar.js'
import type { InstanceRecord } from '../../shared/src/registry/types.js'
import { fastTimings } from '../../scripts/lib/cluster.js'

/**
 * Registers a server the test runs (a scripted upstream, a sick instance, a fake origin) as an
 * instance of a service, heartbeating with the tests' fast registry timings, so a gateway routes to
 * it as to a real one. `role` defaults to `member`. Stop the returned registrar in `afterAll`.
 */
export async function registerFake (redis: Redis, prefix: string, record: Omit<InstanceRecord, 'role' | 'startedAt'> & { role?: string }): Promise<Registrar> {
  const registrar = new Registrar({
    redis,
    prefix,
    ttlMs: Number(fastTimings.REGISTRY_TTL_MS),
    heartbeatMs: Number(fastTimings.REGISTRY_HEARTBEAT_MS),
    record: { role: 'member', startedAt: Date.now(), ...record }
  })
  await registrar.start()
  return registrar
}

export interface FakeInstance {
  app: FastifyInstance
  url: string
  registrar: Registrar
  /** Stops heartbeating (the record lapses by its TTL) and closes the server. */
  stop: () => Promise<void>
}

/**
 * A Fastify server the test scripts, on an ephemeral loopback port, with a passing `/healthz`,
 * registered as an instance of a service: `routes` adds what the test needs the upstream to do.
 */
export async function startFakeInstance (
  redis: Redis,
  prefix: string,
  record: Omit<InstanceRecord, 'role' | 'startedAt' | 'url'> & { role?: string },
  routes: (app: FastifyInstance) => void,
  options: FastifyServerOptions = {}
): Promise<FakeInstance> {
  const app = Fastify(options)
  app.get('/healthz', async () => ({ status: 'ok' }))
  routes(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const registrar = await registerFake(redis, prefix, { ...record, url })
  return {
    app,
    url,
    registrar,
    stop: async () => {
      await registrar.stop().catch(() => {})
      await app.close()
    }
  }
}
