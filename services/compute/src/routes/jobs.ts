import type { FastifyInstance } from 'fastify'
import { computeError } from '../errors.js'
import { newJobId, parseIdempotencyKey, parseSubmission } from '../jobs/job.js'
import type { JobStore } from '../jobs/job-store.js'

/**
 * `POST /jobs {"task", "params"}` → 202 `{id, statusUrl}` (a repeated `Idempotency-Key`
 * returns the same job), `GET /jobs/:id` → its status and, once done, its result.
 */
export function registerJobRoutes (app: FastifyInstance, store: JobStore, statusBase = '/api/compute'): void {
  app.post('/jobs', { bodyLimit: 65_536 }, async (request, reply) => {
    const req = parseSubmission(request.body)
    const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key'])
    const { id, created } = await store.submit(newJobId(), req, idempotencyKey)
    const statusUrl = `${statusBase}/jobs/${id}`
    return await reply.code(202).header('location', statusUrl).send({ id, statusUrl, created })
  })
  app.get('/jobs/:id', async (request, reply) => {
    const { id } = request.params as { id: string }
    if (!/^[0-9a-f-]{36}$/.test(id)) throw computeError('COMPUTE_ERR_JOB_NOT_FOUND', `no job ${JSON.stringify(id.slice(0, 64))}`)
    const job = await store.get(id)
    if (job === undefined) throw computeError('COMPUTE_ERR_JOB_NOT_FOUND', `no job ${id} (finished jobs are kept for a limited time)`)
    void reply.header('cache-control', 'no-store')
    return job
  })
}
