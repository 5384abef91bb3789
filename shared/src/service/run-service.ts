import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { commonSpec, integer, loadConfig, string, type ConfigOf, type ConfigSpec, type Env } from '../config.js'
import { createLogger, type Logger } from '../logger.js'
import { createRedis, type Redis } from '../redis.js'
import { declaredPolicy, type RoutingPolicy } from '../registry/policy.js'
import { Registrar } from '../registry/registrar.js'
import type { InstanceRecord } from '../registry/types.js'
import { advertisedUrl } from './advertise.js'
import { exitWithParent } from './watch-parent.js'

export const serviceSpec = {
  ...commonSpec,
  instanceId: string('INSTANCE_ID', ''),
  registryTtlMs: integer('REGISTRY_TTL_MS', 2_000, { min: 200, max: 60_000 }),
  heartbeatMs: integer('REGISTRY_HEARTBEAT_MS', 500, { min: 50, max: 20_000 }),
  drainDelayMs: integer('DRAIN_DELAY_MS', 300, { min: 0, max: 30_000 })
} satisfies ConfigSpec

export type ServiceConfig = ConfigOf<typeof serviceSpec>

export interface ServiceContext<S extends ConfigSpec> {
  config: ServiceConfig & ConfigOf<S>
  instanceId: string
  log: Logger
  redis: Redis
  /** Filled in once the app listens; role changes go through it. */
  registrar: () => Registrar
}

export interface BuiltService {
  app: FastifyInstance
  /** Initial registry role. @default 'member' */
  role?: string
  meta?: InstanceRecord['meta']
  /** Facts that change as it runs (queue depth …), published with every heartbeat. */
  liveMeta?: () => NonNullable<InstanceRecord['meta']>
  /** Runs after the instance is listening and registered (start consumers, elections …). */
  start?: () => Promise<void>
  /** Runs after deregistration, before the HTTP server drains. */
  stop?: () => Promise<void>
}

export interface ServiceDefinition<S extends ConfigSpec> {
  service: string
  spec: S
  /**
   * How the gateway routes to this service (balancer, leader routing, retries, hedging, caching),
   * published with every registration: the gateway reads it from the registry, never from a copy
   * of its own. A bad or unknown field stops the service at start. @default every field's default
   */
  policy?: RoutingPolicy
  build: (ctx: ServiceContext<S>) => Promise<BuiltService>
}

export interface RunningService {
  url: string
  instanceId: string
  stop: (reason?: string) => Promise<void>
}

/**
 * Runs one service instance: config, logger, Redis, listen, register; on SIGTERM/SIGINT it
 * deregisters first, waits for gateways to notice, then drains in-flight requests and exits.
 */
export async function runService<S extends ConfigSpec> (def: ServiceDefinition<S>, env: Env = process.env, { handleSignals = true } = {}): Promise<RunningService> {
  const config = loadConfig({ ...serviceSpec, ...def.spec }, env) as ServiceConfig & ConfigOf<S>
  const policy = def.policy === undefined ? undefined : declaredPolicy(def.service, def.policy)
  const instanceId = config.instanceId !== '' ? config.instanceId : `${def.service}-${randomBytes(3).toString('hex')}`
  const log = createLogger({ service: def.service, instanceId, level: config.logLevel })
  const redis = createRedis(config.redisUrl, log)
  const late: { registrar?: Registrar } = {}
  const built = await def.build({
    config,
    instanceId,
    log,
    redis,
    registrar: () => {
      if (late.registrar === undefined) throw new Error('registrar used before the service listens')
      return late.registrar
    }
  })
  await built.app.listen({ host: config.host, port: config.port })
  const { port } = built.app.server.address() as AddressInfo
  const url = advertisedUrl(config.host, port, config.advertiseHost)
  const registrar = new Registrar({
    redis,
    prefix: config.keyPrefix,
    ttlMs: config.registryTtlMs,
    heartbeatMs: config.heartbeatMs,
    ...(built.liveMeta !== undefined ? { liveMeta: built.liveMeta } : {}),
    log,
    record: { id: instanceId, service: def.service, url, role: built.role ?? 'member', startedAt: Date.now(), ...(built.meta ? { meta: built.meta } : {}), ...(policy ? { policy } : {}) }
  })
  late.registrar = registrar
  await registrar.start()
  await built.start?.()
  log.info({ url, registered: registrar.registered }, 'service ready')

  let stopping: Promise<void> | undefined
  const stop = async (reason = 'stop'): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down: deregistering, then draining')
      const force = setTimeout(() => { log.error('shutdown timed out; exiting'); process.exit(1) }, config.shutdownTimeoutMs)
      force.unref()
      await registrar.stop()
      await built.stop?.()
      await sleep(config.drainDelayMs) // let gateways drop us before the listener closes
      await built.app.close()
      redis.disconnect()
      clearTimeout(force)
      log.info('stopped')
    })()
    return await stopping
  }
  // a stop that fails still ends the process, with the reason in the log rather than an unhandled rejection
  const stopAndExit = (reason: string): void => {
    stop(reason).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed; exiting')
      process.exit(1)
    })
  }
  exitWithParent(config.parentPid || undefined, () => { stopAndExit('launcher gone') })
  if (handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { stopAndExit(signal) })
  }
  return { url, instanceId, stop }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
