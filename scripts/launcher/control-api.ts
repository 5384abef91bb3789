import Fastify, { type FastifyInstance } from 'fastify'
import type { Topology } from '../../topology.js'
import { ClusterError, toEnvelope } from '../../shared/src/errors.js'
import { controlRequestProblem } from './control-auth.js'
import { controlError } from './errors.js'
import { nextInstance } from './plan.js'
import type { LocalRedis } from './redis.js'
import type { Supervisor } from './supervisor.js'

const actions = { kill: 'SIGKILL', stop: 'SIGSTOP', cont: 'SIGCONT' } as const

/**
 * The launcher's loopback control API: list instances, kill -9 / freeze / thaw / restart one,
 * scale a stateless service, restart Redis. The ctl CLI and the chaos runner drive it, with the
 * token the launcher wrote to its state dir (control-auth.ts); `GET /healthz` needs no token.
 */
export function buildControlApi (supervisor: Supervisor, topology: Topology, redis: LocalRedis | undefined, token: string): FastifyInstance {
  const app = Fastify({ logger: false })
  app.addHook('onRequest', async (request, reply) => {
    const h = request.headers
    const problem = controlRequestProblem({ host: h.host, origin: h.origin, authorization: h.authorization }, token, request.url !== '/healthz')
    if (problem !== undefined) throw controlError(problem.status === 401 ? 'CTL_ERR_UNAUTHORIZED' : 'CTL_ERR_FORBIDDEN', problem.message)
  })
  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    // Fastify's own refusals (a body that is not JSON, an unknown route) arrive as plain errors
    const status = err.statusCode ?? 500
    const error = err instanceof ClusterError ? err : controlError(status === 404 ? 'CTL_ERR_NOT_FOUND' : status < 500 ? 'CTL_ERR_BAD_REQUEST' : 'CTL_ERR_INTERNAL', err.message)
    void reply.code(error.statusCode).send(toEnvelope(error))
  })

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/instances', async () => ({ instances: supervisor.list() }))

  app.post<{ Params: { id: string, action: string } }>('/instances/:id/:action', async (request) => {
    const { id, action } = request.params
    if (supervisor.get(id) === undefined) throw controlError('CTL_ERR_NOT_FOUND', `no instance "${id}"`)
    if (action === 'restart') {
      await supervisor.restart(id)
      return supervisor.get(id)
    }
    const signal = actions[action as keyof typeof actions]
    if (signal === undefined) throw controlError('CTL_ERR_BAD_REQUEST', `unknown action "${action}"; expected kill, stop, cont or restart`)
    try {
      return supervisor.signal(id, signal)
    } catch (err) {
      throw controlError('CTL_ERR_CONFLICT', (err as Error).message)
    }
  })

  app.post<{ Params: { service: string }, Body: { count?: unknown } }>('/services/:service/scale', async (request) => {
    const { service } = request.params
    const spec = topology.services[service]
    if (spec === undefined) throw controlError('CTL_ERR_NOT_FOUND', `no service "${service}"`)
    if (!spec.scalable) throw controlError('CTL_ERR_BAD_REQUEST', `"${service}" has instances with identities of their own and cannot be scaled`)
    const count = request.body?.count
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 32) throw controlError('CTL_ERR_BAD_REQUEST', 'count must be an integer 1–32')
    const current = supervisor.instancesOf(service)
    if (count > current.length) {
      for (let i = current.length; i < count; i++) await supervisor.add(nextInstance(topology, service, supervisor.ids()))
    } else {
      const surplus = current.sort((a, b) => b.id.localeCompare(a.id, undefined, { numeric: true })).slice(0, current.length - count)
      await Promise.all(surplus.map(async (p) => await supervisor.remove(p.id)))
    }
    return { service, instances: supervisor.instancesOf(service) }
  })

  app.post('/redis/restart', async () => {
    if (redis === undefined) throw controlError('CTL_ERR_CONFLICT', 'Redis is external (REDIS_URL); the launcher cannot restart it')
    await redis.restart()
    return { status: 'restarted', pid: redis.pid() }
  })
  return app
}
