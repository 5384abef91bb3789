import type { FastifyInstance } from 'fastify'
import { clusterError } from '../errors.js'

/**
 * Deadline propagation (as gRPC does): the gateway tells each try until when its answer is
 * awaited, as epoch milliseconds. A process that was frozen (SIGSTOP, a long GC, a starved VM)
 * may read a request long after the gateway gave up and retried it elsewhere; acting on it then
 * could undo newer work (a late PUT stamped after a later one). Such a request is refused
 * before its handler runs. Assumes the processes' clocks agree to within a few milliseconds
 * (one host, or NTP).
 */
export const deadlineHeader = 'x-request-deadline'

export function deadlinePassed (header: string | string[] | undefined, now: number): boolean {
  if (typeof header !== 'string') return false
  const deadline = Number(header)
  return Number.isFinite(deadline) && deadline > 0 && now > deadline
}

export function enforceDeadlines (app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (deadlinePassed(request.headers[deadlineHeader], Date.now())) {
      throw clusterError('HTTP_ERR_DEADLINE_PASSED', 'the caller stopped waiting for this request before it could start; nothing was done')
    }
  })
}
