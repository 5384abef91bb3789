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
