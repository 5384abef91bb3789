import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { PeerClient } from '../adapters/peer-client.js'
import type { StoredValue } from '../core/store.js'
import { maxValueBytes, parseIfMatch, validateKey, validateValue } from '../core/validate.js'
import type { ReplicaDriver } from '../driver.js'
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
    const ifMatch = parseIfMatch(request.headers['if-match'])
    return await viaLeader(request, reply, deps, async () => {
      const { version, created } = await deps.driver.write('put', key, value, ifMatch)
      versionHeaders(reply, version)
      return await reply.code(created ? 201 : 200).send({ key, version, created })
    })
  })

  app.delete('/keys/:key', async (request, reply) => {
    const key = validateKey((request.params as { key: string }).key)
    const ifMatch = parseIfMatch(request.headers['if-match'])
    return await viaLeader(request, reply, deps, async () => {
      const { version } = await deps.driver.write('del', key, undefined, ifMatch)
      void reply.header('x-kv-version', String(version))
      return await reply.send({ key, deleted: true, version })
    })
  })
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
 * up to `leaderWaitMs`, and runs `local` if this replica wins meanwhile.
 */
async function viaLeader (request: FastifyRequest, reply: FastifyReply, deps: KeysRouteDeps, local: () => Promise<FastifyReply>): Promise<FastifyReply> {
  const giveUp = Date.now() + deps.leaderWaitMs
  let deadUrl: string | undefined
  for (;;) {
    if (deps.driver.isLeader) return await local()
    if (request.headers[forwardedHeader] !== undefined) throw kvError('KVL_ERR_NOT_LEADER', 'this replica is not the leader (the request was already forwarded once)')
    const url = deps.driver.leaderUrl()
    if (url !== undefined && url !== deadUrl) {
      try {
        return await forward(url, request, reply, deps)
      } catch (err) {
        // Only a connection the leader never took (or lost as it died) is tried again elsewhere;
        // a timeout may have been applied, so it is the client's call.
        if (!connectionLost(err)) throw kvError('KVL_ERR_NO_LEADER', `the leader did not answer the forwarded request: ${(err as Error).message}`)
        deadUrl = url
      }
    }
    if (Date.now() >= giveUp) throw kvError('KVL_ERR_NO_LEADER', 'no reachable leader (an election may be under way)')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function connectionLost (err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
}

async function forward (url: string, request: FastifyRequest, reply: FastifyReply, deps: KeysRouteDeps): Promise<FastifyReply> {
  const headers: Record<string, string> = { [forwardedHeader]: deps.instanceId, 'x-request-id': request.id }
  for (const name of ['content-type', 'if-match']) {
    const v = request.headers[name]
    if (typeof v === 'string') headers[name] = v
  }
  const body = Buffer.isBuffer(request.body) ? request.body : undefined
  const res = await deps.peers.forward(url, request.method, request.url, headers, body, deps.forwardTimeoutMs)
  const { 'x-instance-id': servedBy, ...rest } = res.headers
  if (servedBy !== undefined) void reply.header('x-kv-served-by', servedBy)
  return await reply.code(res.status).headers(rest).send(res.body)
}
