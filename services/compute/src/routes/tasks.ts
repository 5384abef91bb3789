import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TwoTierCache } from '../../../../shared/src/cache/two-tier-cache.js'
import type { TaskPool } from '../adapters/task-pool.js'
import { parseTask, taskKey, type TaskRequest, type TaskResult } from '../core/tasks.js'

export interface TaskRouteDeps {
  pool: TaskPool
  cache: TwoTierCache<TaskResult>
  /** `Cache-Control: max-age` of answers; 0 → `no-store`. */
  httpMaxAgeS: number
}

/**
 * `GET /primes?limit=N` and `GET /hash?rounds=R&input=S`: the answer comes from the two-tier
 * cache or, once for every concurrent identical request in the cluster, from the pool.
 * `x-cache` says which. A client that leaves stops waiting; the computation is cancelled when
 * no other request is waiting for it. `DELETE /internal/cache/<task>?…` invalidates one answer
 * on every instance.
 */
export function registerTaskRoutes (app: FastifyInstance, deps: TaskRouteDeps): void {
  for (const task of ['primes', 'hash'] as const) {
    app.get(`/${task}`, async (request, reply) => {
      const req = parseTask(task, request.query)
      return await answer(req, request, reply, deps)
    })
  }
  app.delete('/internal/cache/:task', async (request) => {
    const req = parseTask((request.params as { task: string }).task, request.query)
    const key = taskKey(req)
    const broadcast = await deps.cache.invalidate(key)
    return { invalidated: key, broadcast }
  })
}

async function answer (req: TaskRequest, request: FastifyRequest, reply: FastifyReply, deps: TaskRouteDeps): Promise<unknown> {
  const gone = new AbortController()
  reply.raw.on('close', () => { if (!reply.raw.writableFinished) gone.abort(new Error('client closed the connection')) })
  const started = process.hrtime.bigint()
  let result
  try {
    result = await deps.cache.wrap(taskKey(req), async (signal) => ({ value: await deps.pool.run(req, { signal }) }), { signal: gone.signal })
  } catch (err) {
    // nobody to answer: no error to log, just the nginx-style status for the access metrics
    if (gone.signal.aborted) return await reply.code(499).send()
    throw err
  }
  void reply
    .header('x-cache', result.outcome)
    .header('x-cache-tier', result.tier)
    .header('server-timing', `app;dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(3)}`)
    .header('cache-control', deps.httpMaxAgeS > 0 ? `public, max-age=${deps.httpMaxAgeS}` : 'no-store')
    // the gateway tags its copy with our cache key: invalidating that key here purges it there too
    .header('surrogate-key', deps.cache.key(taskKey(req)))
  return { task: req.task, params: req.params, result: result.value }
}
