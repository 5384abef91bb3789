import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from '../../../../shared/src/service/create-app.js'
import type { Coordinator, QuorumOutcome } from '../coordinator.js'
import { unsupportedPrecondition } from '../core/preconditions.js'
import { describeProblem, requestQuorum, type Quorum } from '../core/quorum.js'
import { isKey } from '../core/record.js'
import { formatVersion } from '../core/version.js'
import { kvqError } from '../errors.js'
import type { ClusterError } from '../../../../shared/src/errors.js'
import type { KvQuorumMetrics } from '../metrics.js'
import { deadlineFrom, deadlineHeader } from '../../../../shared/src/service/deadline.js'

export interface KeysRouteOptions {
  coordinator: Coordinator
  defaults: Quorum
  maxValueBytes: number
  metrics: KvQuorumMetrics
}

/**
 * The client API: `PUT/GET/DELETE /keys/:key?w=&r=&consistency=`. The value is the raw body.
 * Every answer carries the quorum asked and reached and the replicas involved in headers.
 */
export async function keysRoutes (app: FastifyInstance, opts: KeysRouteOptions): Promise<void> {
  const { coordinator, defaults, maxValueBytes, metrics } = opts
  // values are opaque bytes whatever their content type (JSON included)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxValueBytes }, (_req, body, done) => { done(null, body) })
  app.setErrorHandler((err: Error & { code?: string }, _request, reply) => {
    sendError(reply, err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? kvqError('KVQ_ERR_VALUE_TOO_LARGE', `value exceeds ${maxValueBytes} bytes (KVQ_MAX_VALUE_BYTES)`) : err)
  })

  // a condition that cannot be honoured is refused, never ignored (the gateway counts no 501 against an instance)
  app.addHook('onRequest', async (request) => {
    const header = unsupportedPrecondition(request.headers)
    if (header !== undefined) throw kvqError('KVQ_ERR_PRECONDITION_UNSUPPORTED', `${header} is not supported: a leaderless store cannot compare and set atomically (kv-leader's If-Match can)`)
  })

  const parse = (request: FastifyRequest): { key: string, quorum: Quorum } => {
    const { key } = request.params as { key: string }
    if (!isKey(key)) throw kvqError('KVQ_ERR_BAD_KEY', `key must be 1–256 characters of A-Z a-z 0-9 . _ ~ : @ ! $ ' ( ) * + , ; = -, got ${JSON.stringify(key.slice(0, 300))}`)
    const parsed = requestQuorum(request.query as Record<string, unknown>, defaults)
    if ('problems' in parsed) throw kvqError('KVQ_ERR_BAD_QUORUM', parsed.problems.map((p) => describeProblem(p, defaults.n)).join('; '))
    return { key, quorum: parsed.quorum }
  }

  const quorumHeaders = (reply: FastifyReply, quorum: Quorum, kind: 'w' | 'r', o: QuorumOutcome): void => {
    void reply.headers({
      'x-kvq-n': String(quorum.n),
      'x-kvq-quorum-asked': `${kind}=${o.asked}`,
      'x-kvq-quorum-reached': String(o.replicas.length),
      'x-kvq-replicas': o.replicas.join(','),
      'x-kvq-consistency': quorum.consistency
    })
  }

  const noQuorum = (op: string, kind: 'w' | 'r', o: QuorumOutcome, note: string): ClusterError => {
    metrics.operations.inc({ op, outcome: 'no_quorum' })
    const message = `${kind}=${o.asked} asked, ${o.replicas.length} ${kind === 'w' ? 'acknowledged' : 'answered'}${o.replicas.length > 0 ? ` (${o.replicas.join(', ')})` : ''}; ${note}`
    return kvqError('KVQ_ERR_NO_QUORUM', message, { details: { asked: o.asked, reached: o.replicas.length, replicas: o.replicas } })
  }

  const write = async (request: FastifyRequest, reply: FastifyReply, value: Buffer | null): Promise<FastifyReply> => {
    const op = value === null ? 'delete' : 'put'
    const { key, quorum } = parse(request)
    const outcome = await coordinator.write(key, value, quorum, deadlineFrom(request.headers[deadlineHeader]))
    quorumHeaders(reply, quorum, 'w', outcome)
    void reply.header('x-kvq-version', formatVersion(outcome.record.version))
    if (!outcome.reached) throw noQuorum(op, 'w', outcome, 'the write may still be applied on the replicas that acknowledged it and will spread from there')
    metrics.operations.inc({ op, outcome: 'ok' })
    return reply.send({ key, version: formatVersion(outcome.record.version), ...(value === null ? { deleted: true } : { bytes: value.length }), acks: outcome.replicas.length, replicas: outcome.replicas })
  }

  app.put('/keys/:key', async (request, reply) => {
    const body = request.body
    return await write(request, reply, Buffer.isBuffer(body) ? body : Buffer.alloc(0))
  })

  app.delete('/keys/:key', async (request, reply) => await write(request, reply, null))

  app.get('/keys/:key', async (request, reply) => {
    const { key, quorum } = parse(request)
    const outcome = await coordinator.read(key, quorum, deadlineFrom(request.headers[deadlineHeader]))
    quorumHeaders(reply, quorum, 'r', outcome)
    if (!outcome.reached) throw noQuorum('get', 'r', outcome, 'nothing was read')
    if (outcome.stale.length > 0) void reply.header('x-kvq-repaired', outcome.stale.join(','))
    const record = outcome.record
    if (record !== undefined) void reply.header('x-kvq-version', formatVersion(record.version))
    if (record?.value === null || record === undefined) {
      metrics.operations.inc({ op: 'get', outcome: 'not_found' })
      throw kvqError('KVQ_ERR_NOT_FOUND', `no key ${JSON.stringify(key)}${record === undefined ? '' : ' (deleted)'}`)
    }
    metrics.operations.inc({ op: 'get', outcome: 'ok' })
    return reply.type('application/octet-stream').send(record.value)
  })
}
