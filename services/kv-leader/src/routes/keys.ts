import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { deadlineFrom, deadlineHeader } from '../../../../shared/src/service/deadline.js'
import { retryKeyFrom, retryKeyHeader } from '../../../../shared/src/service/retry-key.js'
import type { PeerClient } from '../adapters/peer-client.js'
import type { StoredValue } from '../core/store.js'
import type { Precondition } from '../core/types.js'
import { maxValueBytes, parseIfMatch, parseIfNoneMatch, validateKey, validateValue } from '../core/validate.js'
import type { ReplicaDriver, WriteRequest } from '../driver.js'
import { kvError } from '../errors.js'

export interface KeysRouteDeps {
  driver: ReplicaDriver
  peers: PeerClient
  instanceId: string
  forwardTimeoutMs: number
  /** How long a follower looks for a leader (an election) before answering 503. */
  leaderWaitMs: number
}

const forwardedHeader = 'x-kv-forwarded-by'

/**
 * `PUT/GET/DELETE /keys/:key`. Writes and default reads are the leader's; a follower forwards
 * them to the leader (once: a forwarded request that lands on a non-leader gets 503).
 * `?consistency=eventual` reads are served by any replica with `x-kv-lag`.
 */
export async function keysRoutes (app: FastifyInstance, deps: KeysRouteDeps): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxValueBytes }, (_req, body, done) => { done(null, body) })

  app.get('/keys/:key', async (request, reply) => {
    const key = validateKey((request.params as { key: string }).key)
    const consistency = (request.query as { consistency?: string }).consistency ?? 'linearizable'
    if (consistency !== 'eventual' && consistency !== 'linearizable') throw kvError('KVL_ERR_BAD_CONSISTENCY', `consistency must be linearizable or eventual, got ${JSON.stringify(consistency)}`)
    if (consistency === 'eventual') {
      void reply.header('x-kv-lag', String(deps.driver.lag()))
      return sendValue(reply, key, deps.driver.state.store.get(key))
    }
    return await viaLeader(request, reply, deps, async () => sendValue(reply, key, await deps.driver.readLinearizable(key)))
  })

  app.put('/keys/:key', { bodyLimit: maxValueBytes }, async (request, reply) => {
    const key = validateKey((request.params as { key: string }).key)
    const value = validateValue(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0))
    const write = writeRequest(request, 'put', key, value)
    return await viaLeader(request, reply, deps, async () => {
      const { version, created } = await deps.driver.write(write)
      versionHeaders(reply, version)
      return await reply.code(created ? 201 : 200).send({ key, version, created })
    })
  })

  app.delete('/keys/:key', async (request, reply) => {
    const key = validateKey((request.params as { key: string }).key)
    const write = writeRequest(request, 'del', key)
    return await viaLeader(request, reply, deps, async () => {
      const { version } = await deps.driver.write(write)
      void reply.header('x-kv-version', String(version))
      return await reply.send({ key, deleted: true, version })
    })
  })
}

/** A write as the driver takes it: preconditions, the gateway's retry key, the caller's deadline. */
function writeRequest (request: FastifyRequest, op: 'put' | 'del', key: string, value?: Buffer): WriteRequest {
  const ifMatch = parseIfMatch(request.headers['if-match'])
  const ifNoneMatch = parseIfNoneMatch(request.headers['if-none-match'])
  const cond: Precondition = { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) }
  const rid = retryKeyFrom(request.headers[retryKeyHeader])
  const deadline = deadlineOf(request)
  return {
    op,
    key,
    ...(value !== undefined ? { value } : {}),
    ...(ifMatch !== undefined || ifNoneMatch !== undefined ? { cond } : {}),
    ...(rid !== undefined ? { rid } : {}),
    ...(deadline !== undefined ? { deadline } : {})
  }
}

function deadlineOf (request: FastifyRequest): number | undefined {
  return deadlineFrom(request.headers[deadlineHeader])
}

function versionHeaders (reply: FastifyReply, version: number): void {
  void reply.header('etag', `"${version}"`)
  void reply.header('x-kv-version', String(version))
}

function sendValue (reply: FastifyReply, key: string, stored: StoredValue | undefined): FastifyReply {
  if (stored === undefined) throw kvError('KVL_ERR_NOT_FOUND', `no key "${key}"`)
  versionHeaders(reply, stored.version)
  return reply.type('application/octet-stream').send(stored.value)
}

/**
 * Runs `local` when this replica leads; otherwise forwards to the leader. During an election
 * (no leader known, or the known one refuses connections because it died) it keeps looking for
 * up to `leaderWaitMs` (never past the caller's deadline), and runs `local` if this replica wins
 * meanwhile.
 *
 * A forward is sent again to the next leader only when it certainly did nothing (the connection
 * was refused), or when it carries the gateway's retry key (the leader answers a repeat with
 * what the first did). Otherwise a forward that got no answer may have been applied: the caller
 * is told the outcome is unknown (KVL_ERR_OUTCOME_UNKNOWN), never "not done".
 */
async function viaLeader (request: FastifyRequest, reply: FastifyReply, deps: KeysRouteDeps, local: () => Promise<FastifyReply>): Promise<FastifyReply> {
  const deadline = deadlineOf(request)
  const giveUp = Math.min(Date.now() + deps.leaderWaitMs, deadline ?? Infinity)
  const safeToRepeat = request.method === 'GET' || retryKeyFrom(request.headers[retryKeyHeader]) !== undefined
  let deadUrl: string | undefined
  for (;;) {
    if (deps.driver.isLeader) return await local()
    if (request.headers[forwardedHeader] !== undefined) throw kvError('KVL_ERR_NOT_LEADER', 'this replica is not the leader (the request was already forwarded once)')
    const url = deps.driver.leaderUrl()
    if (url !== undefined && url !== deadUrl) {
      try {
        return await forward(url, request, reply, deps, Math.min(deps.forwardTimeoutMs, giveUp - Date.now()))
      } catch (err) {
        const code = (err as { code?: string }).code ?? ''
        const notSent = code === 'ECONNREFUSED'
        const lost = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
        if (!notSent && !(lost && safeToRepeat)) {
          if (request.method === 'GET') throw kvError('KVL_ERR_NO_LEADER', `the leader did not answer the forwarded read: ${(err as Error).message}`)
          throw kvError('KVL_ERR_OUTCOME_UNKNOWN', `the leader did not answer the forwarded write, which may or may not be applied: ${(err as Error).message}`)
        }
        deadUrl = url
      }
    }
    if (Date.now() >= giveUp) throw kvError('KVL_ERR_NO_LEADER', 'no reachable leader (an election may be under way); nothing was done')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function forward (url: string, request: FastifyRequest, reply: FastifyReply, deps: KeysRouteDeps, timeoutMs: number): Promise<FastifyReply> {
  if (timeoutMs <= 0) throw kvError('KVL_ERR_NO_LEADER', 'the caller\'s deadline passed before a leader was found; nothing was done')
  const headers: Record<string, string> = { [forwardedHeader]: deps.instanceId, 'x-request-id': request.id }
  // the leader refuses the forward if it reaches it after the caller stopped waiting
  for (const name of ['content-type', 'if-match', 'if-none-match', retryKeyHeader, deadlineHeader]) {
    const v = request.headers[name]
    if (typeof v === 'string') headers[name] = v
  }
  const body = Buffer.isBuffer(request.body) ? request.body : undefined
  const res = await deps.peers.forward(url, request.method, request.url, headers, body, timeoutMs)
  const { 'x-instance-id': servedBy, ...rest } = res.headers
  if (servedBy !== undefined) void reply.header('x-kv-served-by', servedBy)
  return await reply.code(res.status).headers(rest).send(res.body)
}
