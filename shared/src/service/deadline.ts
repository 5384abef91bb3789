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
  const deadline = deadlineFrom(header)
  return deadline !== undefined && now > deadline
}

export function enforceDeadlines (app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (deadlinePassed(request.headers[deadlineHeader], Date.now())) {
      // a 503 ("not now", retryable): nothing was done, so the caller may try elsewhere; when the
      // instance wakes just before the caller's own timer, this answer reaches it first
      throw clusterError('HTTP_ERR_DEADLINE_PASSED', 'the caller stopped waiting for this request before it could start; nothing was done', { retryable: true })
    }
  })
}

/** The caller's deadline (epoch ms) from the header, or undefined when it sent none. */
export function deadlineFrom (header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined
  const deadline = Number(header)
  return Number.isFinite(deadline) && deadline > 0 ? deadline : undefined
}

/**
 * The deadline an internal call carries on the next hop: its own timeout from now, never past
 * the deadline of the request it serves. The receiver refuses the call if it reads it later
 * (`enforceDeadlines`), so a process frozen while the call waited never acts on it after its
 * caller gave up.
 */
export function hopDeadline (timeoutMs: number, upstream: number | undefined = undefined, now = Date.now()): number {
  return Math.min(now + timeoutMs, upstream ?? Infinity)
}
