import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leaseKeys, RedisLease } from '../../shared/src/lease/redis-lease.js'
import { decideAcquire, decideSteal, type Candidate, type Holder, type LeaseRequest } from '../../shared/src/lease/rules.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/**
 * The lease's Lua scripts against their pure model (shared/src/lease/rules.ts): one table of
 * situations, each set up in a real Redis and run through both; the verdicts must agree. The
 * model is what the unit tests and the docs reason about; this keeps the Lua honest to it.
 */
let server: TestRedis
let redis: Redis
let n = 0

beforeAll(async () => {
  server = await startRedis()
  redis = new Redis(server.url)
})
afterAll(async () => {
  redis.disconnect()
  await server.stop()
})

/** A candidate entry: `live` ones expire far in the future, the others are already past. */
interface CandidateSpec { id: string, epoch: number, index: number, known: number, live: boolean }

interface Case {
  name: string
  holder?: Holder
  counter?: number
  candidates?: CandidateSpec[]
  req: LeaseRequest
  /** Steal from this holder (seen dead) instead of acquiring. */
  steal?: Holder
  expect: { granted: boolean, epoch?: number, reason?: string }
}

const me = (extra: Partial<LeaseRequest> = {}): LeaseRequest => ({ owner: 'a#1', client: '11', floor: 0, resume: 0, ...extra })
const elect = (epoch: number, index: number, quorum = 2): LeaseRequest['election'] => ({ candidate: 'a', position: { epoch, index }, quorum })
const held = (owner: string, epoch: number, candidate = ''): Holder => ({ owner, epoch, client: '99', candidate })
const cand = (id: string, epoch: number, index: number, known = epoch, live = true): CandidateSpec => ({ id, epoch, index, known, live })

const cases: Case[] = [
  { name: 'a free lease with no counter gets epoch 1', req: me(), expect: { granted: true, epoch: 1 } },
  { name: 'a new epoch passes the counter', counter: 5, req: me(), expect: { granted: true, epoch: 6 } },
  { name: 'a new epoch passes the floor when Redis lost its counter', req: me({ floor: 7 }), expect: { granted: true, epoch: 8 } },
  { name: 'a new epoch passes both counter and floor', counter: 9, req: me({ floor: 7 }), expect: { granted: true, epoch: 10 } },
  { name: 'the holder renews with the same epoch', holder: held('a#1', 3), counter: 3, req: me(), expect: { granted: true, epoch: 3 } },
  { name: 'another holder refuses', holder: held('b#1', 3), counter: 3, req: me(), expect: { granted: false, epoch: 3, reason: 'held' } },
  { name: 'a holder whose key expired resumes its epoch when nobody took a newer one', counter: 4, req: me({ resume: 4, floor: 4 }), expect: { granted: true, epoch: 4 } },
  { name: 'no resume once a newer epoch was issued', counter: 5, req: me({ resume: 4, floor: 4 }), expect: { granted: true, epoch: 6 } },
  { name: 'no resume when Redis lost the counter', req: me({ resume: 4, floor: 4 }), expect: { granted: true, epoch: 5 } },
  { name: 'no resume below the floor', counter: 4, req: me({ resume: 4, floor: 6 }), expect: { granted: true, epoch: 7 } },
  { name: 'election: behind a live candidate by epoch', candidates: [cand('b', 3, 1)], req: me({ election: elect(2, 9) }), expect: { granted: false, reason: 'behind:b' } },
  { name: 'election: behind a live candidate by index', candidates: [cand('b', 2, 10)], req: me({ election: elect(2, 9) }), expect: { granted: false, reason: 'behind:b' } },
  { name: 'election: as up to date as every live candidate, with a majority visible', candidates: [cand('b', 2, 9), cand('c', 1, 50)], req: me({ election: elect(2, 9, 2) }), expect: { granted: true, epoch: 3 } },
  { name: 'election: no majority visible', req: me({ election: elect(2, 9, 2) }), expect: { granted: false, reason: 'no-quorum' } },
  { name: 'election: an expired candidate is neither counted nor compared', candidates: [cand('b', 9, 9, 9, false)], req: me({ election: elect(2, 9, 2) }), expect: { granted: false, reason: 'no-quorum' } },
  { name: 'election: the new epoch passes what live candidates have seen', candidates: [cand('b', 2, 3, 12)], req: me({ election: elect(2, 9, 2) }), expect: { granted: true, epoch: 13 } },
  { name: 'election: a resumed lease skips the election rule (nobody led since)', counter: 4, candidates: [cand('b', 4, 20)], req: me({ resume: 4, floor: 4, election: elect(4, 10, 3) }), expect: { granted: true, epoch: 4 } },
  { name: 'steal: from exactly the holder seen dead', holder: held('b#1', 3), counter: 3, steal: held('b#1', 3), req: me(), expect: { granted: true, epoch: 4 } },
  { name: 'steal: refused when the holder changed since', holder: held('b#1', 4), counter: 4, steal: held('b#1', 3), req: me(), expect: { granted: false, epoch: 4, reason: 'held' } },
  { name: 'steal: the lease expired meanwhile', counter: 3, steal: held('b#1', 3), req: me(), expect: { granted: true, epoch: 4 } },
  { name: 'steal: never resumes', counter: 3, steal: held('b#1', 3), req: me({ resume: 3, floor: 3 }), expect: { granted: true, epoch: 4 } },
  {
    name: 'steal with an election: the dead holder\'s own position is ignored',
    holder: held('b#1', 3, 'b'),
    counter: 3,
    steal: held('b#1', 3, 'b'),
    candidates: [cand('b', 3, 40), cand('c', 3, 30)],
    req: me({ floor: 3, election: elect(3, 30, 2) }),
    expect: { granted: true, epoch: 4 }
  },
  {
    name: 'steal with an election: still behind another live candidate',
    holder: held('b#1', 3, 'b'),
    counter: 3,
    steal: held('b#1', 3, 'b'),
    candidates: [cand('b', 3, 40), cand('c', 3, 31)],
    req: me({ floor: 3, election: elect(3, 30, 2) }),
    expect: { granted: false, reason: 'behind:c' }
  }
]

async function redisNow (): Promise<number> {
  const [s = 0, us = 0] = await redis.time()
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

describe('lease scripts agree with their pure model', () => {
  it.each(cases)('$name', async (c) => {
    const keys = leaseKeys('contract', `case-${++n}`)
    const now = await redisNow()
    const candidates: Candidate[] = (c.candidates ?? []).map((x) => ({ id: x.id, position: { epoch: x.epoch, index: x.index }, expiresAt: x.live ? now + 60_000 : now - 1_000, knownEpoch: x.known }))
    if (c.holder !== undefined) await redis.hset(keys.lease, { owner: c.holder.owner, epoch: c.holder.epoch, client: c.holder.client, candidate: c.holder.candidate })
    if (c.counter !== undefined) await redis.set(keys.epoch, c.counter)
    for (const x of candidates) await redis.hset(keys.candidates, x.id, `${x.position.epoch},${x.position.index},${x.expiresAt},${x.knownEpoch}`)

    const model = c.steal === undefined
      ? decideAcquire(c.holder, c.counter, candidates, c.req, now)
      : decideSteal(c.holder, c.steal, c.counter, candidates, c.req, now)
    const lease = new RedisLease(redis, keys)
    const lua = c.steal === undefined ? await lease.acquire(c.req, 10_000) : await lease.steal(c.req, 10_000, c.steal)

    expect({ granted: lua.granted, reason: lua.reason }).toEqual({ granted: model.granted, reason: model.reason })
    if (model.granted || model.reason === 'held') expect(lua.epoch).toBe(model.epoch)
    expect({ granted: model.granted, ...(c.expect.epoch !== undefined ? { epoch: model.epoch } : {}), ...(c.expect.reason !== undefined ? { reason: model.reason } : {}) }).toEqual(c.expect)
    if (model.granted) {
      // what Redis now holds is what the model says the holder is
      expect(await redis.hgetall(keys.lease)).toEqual({ owner: c.req.owner, epoch: String(model.epoch), client: c.req.client, candidate: c.req.election?.candidate ?? '' })
      expect(Number(await redis.get(keys.epoch))).toBe(model.epoch)
    }
  })
})
