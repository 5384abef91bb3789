import { errorCause, type Interpreted, type PlannedOp, type Workload } from '../workloads.js'

/**
 * The Redis failover run's workload besides the chaos runner's own: compute jobs, whose 202
 * carries the id of the accepted job (`ackId`), so the run can look for every one of them at the
 * end. Every submission carries an Idempotency-Key of its own (the gateway may retry it).
 */
export function jobsWorkload (runId: string, rate = 2): Workload {
  return {
    name: 'compute jobs',
    service: 'compute',
    shape: 'pipeline',
    idempotent: false,
    rate,
    next: (seq): PlannedOp => ({
      method: 'POST',
      path: '/api/compute/jobs',
      body: JSON.stringify({ task: 'primes', params: { limit: 1_000 + (seq % 100) } }),
      headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-j${seq}` },
      kind: 'request'
    }),
    interpret: (_op, status, body): Interpreted => {
      if (status !== 202) return { outcome: 'fail', cause: errorCause(status, body) }
      let id: unknown
      try { id = (JSON.parse(body) as { id?: unknown }).id } catch {}
      return typeof id === 'string' && id !== '' ? { outcome: 'ok', ackId: id } : { outcome: 'fail', cause: `http ${status} without a job id` }
    }
  }
}
