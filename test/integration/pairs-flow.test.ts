import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { Redis } from 'ioredis'
import { projectRoot } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { pipelineKeys } from '../../shared/src/pipeline/keys.js'
import { verifyPairsEventually } from '../../shared/src/pipeline/verify.js'
import { getJson, postEvent, roles, startPairsCluster, waitForRole, type PairsCluster } from './pairs-cluster.js'
import { waitFor } from '../../shared/testing/wait.js'

const prefix = 'pairs-flow'
let c: PairsCluster
let redis: Redis

beforeAll(async () => {
  c = await startPairsCluster(prefix)
  await Promise.all(['ledger-hh-a', 'ledger-hh-b', 'ledger-hw-a', 'ledger-hw-b'].map(async (id) => await c.startLedger(id)))
  redis = new Redis(c.redis.url)
  await waitFor(async () => Object.values(await roles(c.gateway.url, 'ledger-hw')).sort().join() === 'hot,warm', 10_000, 'a hot and a warm')
})

afterAll(async () => {
  redis?.disconnect()
  killAll()
  await c?.redis.stop()
})

describe('feed → ledger pairs → sink', () => {
  it('rejects bad input with a 4xx JSON error and appends nothing', async () => {
    const before = await redis.xlen(pipelineKeys(prefix).feed)
    const cases: Array<[string, string, string]> = [
      ['{"account":"a1","amount":', 'application/json', 'HTTP_ERR_BAD_REQUEST'],
      ['{"account":"a1","amount":"5"}', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['{"account":"a1","amount":1.5}', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['{"account":"a1","amount":9007199254740993}', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['{"account":"a b","amount":1}', 'application/json', 'FEED_ERR_BAD_EVENT'],
      [`{"account":"${'x'.repeat(65)}","amount":1}`, 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['{"account":"a1","amount":1,"extra":true}', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['[1,2]', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['null', 'application/json', 'FEED_ERR_BAD_EVENT'],
      ['account=a1', 'text/plain', 'FEED_ERR_BAD_EVENT'],
      [`{"account":"a1","amount":1,"pad":"${'x'.repeat(100_000)}"}`, 'application/json', 'HTTP_ERR_PAYLOAD_TOO_LARGE']
    ]
    for (const [body, type, code] of cases) {
      const res = await request(`${c.gateway.url}/api/feed/events`, { method: 'POST', body, headers: { 'content-type': type } })
      const json = await res.body.json() as { error: string, message: string }
      expect(res.statusCode, body.slice(0, 60)).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, body.slice(0, 60)).toBeLessThan(500)
      expect(json.error, body.slice(0, 60)).toBe(code)
      expect(typeof json.message).toBe('string')
    }
    expect(await redis.xlen(pipelineKeys(prefix).feed)).toBe(before)
  })

  it('produces the running balance for every input, in feed order, for both pairs', async () => {
    const amounts = [5, -3, 10, 0, 7, -20, 9_007_199_254_740_991, 1]
    const ids: string[] = []
    for (const amount of amounts) {
      const r = await postEvent(c.gateway.url, { account: 'a1', amount })
      expect(r.status).toBe(202)
      expect(r.body.id).toMatch(/^\d+-\d+$/)
      ids.push(r.body.id)
    }
    await postEvent(c.gateway.url, { account: 'b2', amount: 3 })
    let running = 0n
    const expected = amounts.map((amount, i) => {
      running += BigInt(amount)
      const balance = running <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(running) : running.toString()
      return { inputId: ids[i], account: 'a1', amount, balance }
    })
    for (const pair of ['hot-hot', 'hot-warm']) {
      let outputs: any[] = []
      await waitFor(async () => {
        outputs = (await getJson(`${c.gateway.url}/api/sink/outputs?pair=${pair}&account=a1`)).outputs
        return outputs.length === amounts.length
      }, 10_000, `${pair} outputs`)
      expect(outputs.map(({ inputId, account, amount, balance }) => ({ inputId, account, amount, balance }))).toEqual(expected)
      expect(outputs.every((o) => o.pair === pair)).toBe(true)
    }
    let stats: Record<string, any> = {}
    await waitFor(async () => {
      stats = (await getJson(`${c.gateway.url}/api/sink/stats`)).pairs
      return stats['hot-hot'].outputs === 9 && stats['hot-warm'].outputs === 9
    }, 5_000, 'nine outputs per pair')
    expect(stats['hot-hot']).toMatchObject({ conflicts: 0, staleEpochRejected: 0, epoch: 0, highWaterMark: expect.stringMatching(/^\d+-\d+$/) })
    expect(stats['hot-warm']).toMatchObject({ conflicts: 0, epoch: expect.any(Number) })
    expect(stats['hot-warm'].epoch).toBeGreaterThanOrEqual(1)
    // both hot-hot members emit: the second copy of each output is dropped as a duplicate
    await waitFor(async () => (await getJson(`${c.gateway.url}/api/sink/stats`)).pairs['hot-hot'].duplicatesDropped === 9, 5_000, 'hot-hot duplicates')
    const report = await verifyPairsEventually(redis, prefix, 2_000)
    expect(report.pairs.map((p) => [p.pair, p.inputs, p.missing, p.conflicts, p.ok])).toEqual([['hot-hot', 9, 0, 0, true], ['hot-warm', 9, 0, 0, true]])
  })

  it('registers the ledgers with their roles and keeps the sink ingest unreachable through the gateway', async () => {
    expect(await roles(c.gateway.url, 'ledger-hh')).toEqual({ 'ledger-hh-a': 'hot', 'ledger-hh-b': 'hot' })
    for (const path of ['/api/sink/internal/outputs', '/api/sink/%69nternal/outputs', '/api/sink//internal/outputs', '/api/sink/x/../internal/outputs']) {
      const res = await request(`${c.gateway.url}${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
      expect(res.statusCode, path).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, path).toBeLessThan(500)
      await res.body.dump()
    }
    const bad = await request(`${c.gateway.url}/api/sink/outputs?pair=nope&account=a1`)
    expect(bad.statusCode).toBe(400)
    expect((await bad.body.json() as { error: string }).error).toBe('SINK_ERR_BAD_QUERY')
  })

  it('npm run verify: exit 0 when every input has one output, 1 (naming the input) when one is missing', async () => {
    const script = resolve(projectRoot, 'dist/scripts/verify.js')
    const env = { ...process.env, REDIS_URL: c.redis.url, NINES_PREFIX: prefix }
    const ok = spawnSync(process.execPath, [script, '--json', '--wait-ms', '3000'], { env, encoding: 'utf8' })
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout).ok).toBe(true)

    const outputs = pipelineKeys(prefix).pair('hot-warm').outputs
    const [id] = await redis.hkeys(outputs)
    const raw = await redis.hget(outputs, id as string) as string
    await redis.hdel(outputs, id as string)
    try {
      const bad = spawnSync(process.execPath, [script, '--json', '--wait-ms', '0'], { env, encoding: 'utf8' })
      expect(bad.status).toBe(1)
      const report = JSON.parse(bad.stdout) as { pairs: Array<{ pair: string, missing: number, examples: string[] }> }
      expect(report.pairs.find((p) => p.pair === 'hot-warm')).toMatchObject({ missing: 1, examples: [`missing ${id as string}`] })
    } finally {
      await redis.hset(outputs, id as string, raw)
    }
  })

  it('npm run verify --acked: an acknowledged event that vanished from the feed is lost, though the feed and the sink agree', async () => {
    const script = resolve(projectRoot, 'dist/scripts/verify.js')
    const env = { ...process.env, REDIS_URL: c.redis.url, NINES_PREFIX: prefix }
    const keys = pipelineKeys(prefix)
    // an acknowledged event on an account of its own, processed by both pairs
    const kept = await postEvent(c.gateway.url, { account: 'acked1', amount: 3 })
    const gone = await postEvent(c.gateway.url, { account: 'acked2', amount: 4 })
    expect([kept.status, gone.status]).toEqual([202, 202])
    expect((await verifyPairsEventually(redis, prefix, 5_000)).ok).toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'verify-acked-'))
    const file = join(dir, 'acked.jsonl')
    writeFileSync(file, [JSON.stringify({ id: kept.body.id }), JSON.stringify({ id: gone.body.id })].join('\n') + '\n')
    try {
      expect(spawnSync(process.execPath, [script, '--json', '--wait-ms', '0', '--acked', file], { env, encoding: 'utf8' }).status).toBe(0)
      // the event vanishes as if Redis lost it before any ledger read it: stream entry and outputs gone
      await redis.xdel(keys.feed, gone.body.id)
      for (const pair of ['hot-hot', 'hot-warm'] as const) {
        await redis.hdel(keys.pair(pair).outputs, gone.body.id)
        await redis.del(keys.pair(pair).account('acked2'))
      }
      const blind = spawnSync(process.execPath, [script, '--json', '--wait-ms', '0'], { env, encoding: 'utf8' })
      expect(blind.status, 'without the acknowledgements the loss cannot be seen').toBe(0)
      const bad = spawnSync(process.execPath, [script, '--json', '--wait-ms', '0', '--acked', file], { env, encoding: 'utf8' })
      expect(bad.status).toBe(1)
      const report = JSON.parse(bad.stdout) as { ok: boolean, ackedNotInFeed: number, lostExamples: string[], pairs: Array<{ pair: string, acked: number, ackedMissing: number, examples: string[] }> }
      expect(report).toMatchObject({ ok: false, ackedNotInFeed: 1, lostExamples: [gone.body.id] })
      for (const pair of report.pairs) expect(pair).toMatchObject({ acked: 2, ackedMissing: 1, examples: [`acknowledged, no output: ${gone.body.id as string}`] })
      const text = spawnSync(process.execPath, [script, '--wait-ms', '0', '--acked', file], { env, encoding: 'utf8' })
      expect(text.stdout).toContain(`2 acknowledged ids checked; 1 no longer in the feed (lost): ${gone.body.id as string}`)
      expect(spawnSync(process.execPath, [script, '--acked', join(dir, 'nope.jsonl')], { env, encoding: 'utf8' }).status).toBe(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // the loss is consistent everywhere (a stream id is never reused), so the later tests still verify
    expect((await verifyPairsEventually(redis, prefix, 1_000, { acked: [kept.body.id] })).ok).toBe(true)
  })

  it('a graceful stop (SIGTERM) of the hot releases the lease: the warm takes over without waiting for the TTL', async () => {
    const before = await roles(c.gateway.url, 'ledger-hw')
    const hot = Object.keys(before).find((id) => before[id] === 'hot') as string
    const warm = Object.keys(before).find((id) => before[id] === 'warm') as string
    await (c.ledgers.get(hot) as { stop: () => Promise<void> }).stop()
    await waitForRole(c.gateway.url, warm, 'hot')
    const r = await postEvent(c.gateway.url, { account: 'g1', amount: 2 })
    await waitFor(async () => (await getJson(`${c.gateway.url}/api/sink/outputs?pair=hot-warm&account=g1`)).outputs[0]?.inputId === r.body.id, 5_000, 'output from the new hot')
    expect((await verifyPairsEventually(redis, prefix, 3_000)).ok).toBe(true)
    expect(c.ledgers.get(hot)?.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true)
  })

  it('Idempotency-Key: a retry returns the first id and appends nothing, another event under the key is 422, a bad key 400; keys live at least 24 h', async () => {
    const feed = pipelineKeys(prefix).feed
    const post = async (event: unknown, key?: string): Promise<{ status: number, body: any }> => {
      const res = await request(`${c.gateway.url}/api/feed/events`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) } })
      return { status: res.statusCode, body: await res.body.json() }
    }
    const before = await redis.xlen(feed)
    const first = await post({ account: 'k1', amount: 5 }, 'order-42')
    expect(first.status).toBe(202)
    // the same event in another key order is the same event
    const again = await post({ amount: 5, account: 'k1' }, 'order-42')
    expect(again).toEqual({ status: 200, body: { id: first.body.id } })
    const other = await post({ account: 'k1', amount: 6 }, 'order-42')
    expect(other.status).toBe(422)
    expect(other.body.error).toBe('FEED_ERR_KEY_REUSED')
    for (const bad of ['', 'a b', 'x'.repeat(129)]) {
      const r = await post({ account: 'k1', amount: 5 }, bad)
      expect(r.status, bad).toBe(400)
      expect(r.body.error).toBe('FEED_ERR_BAD_IDEMPOTENCY_KEY')
    }
    expect(await redis.xlen(feed)).toBe(before + 1)
    expect(await redis.ttl(pipelineKeys(prefix).feedIdempotency('order-42'))).toBeGreaterThanOrEqual(86_400 - 5)
    await waitFor(async () => (await getJson(`${c.gateway.url}/api/sink/outputs?pair=hot-warm&account=k1`)).outputs.length === 1, 5_000, 'one output')
  })

  it('the gateway retries a feed POST that carries an Idempotency-Key: a frozen feed instance loses no event and appends none twice', async () => {
    const feed = pipelineKeys(prefix).feed
    const before = await redis.xlen(feed)
    const frozen = c.feeds[0] as { signal: (s: NodeJS.Signals) => void }
    frozen.signal('SIGSTOP')
    let answers: Array<{ status: number, id: string }>
    try {
      // two at once: round-robin sends one of them to the frozen instance, whose try times out
      answers = await Promise.all(['retry-a', 'retry-b'].map(async (key, i) => {
        const res = await request(`${c.gateway.url}/api/feed/events`, { method: 'POST', body: JSON.stringify({ account: 'r1', amount: i + 1 }), headers: { 'content-type': 'application/json', 'idempotency-key': key } })
        return { status: res.statusCode, id: (await res.body.json() as { id: string }).id }
      }))
    } finally {
      frozen.signal('SIGCONT')
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202])
    await new Promise((resolve) => setTimeout(resolve, 500)) // the woken instance sees the try past its deadline
    expect(await redis.xlen(feed)).toBe(before + 2)
  })

  it('answers 503 JSON while Redis is away, keeps running, and serves again once it is back', async () => {
    redis.disconnect()
    await c.redis.kill()
    const down = await postEvent(c.gateway.url, { account: 'a1', amount: 1 })
    expect(down.status).toBe(503)
    // unavailable once the feed's client knows Redis is gone; an append in flight as it died is honestly "unknown"
    expect(['FEED_ERR_UNAVAILABLE', 'FEED_ERR_OUTCOME_UNKNOWN']).toContain(down.body.error)
    const stats = await request(`${c.gateway.url}/api/sink/stats`)
    expect(stats.statusCode).toBe(503)
    expect((await stats.body.json() as { error: string }).error).toBe('SINK_ERR_UNAVAILABLE')
    await c.redis.restart()
    await waitFor(async () => (await postEvent(c.gateway.url, { account: 'z9', amount: 4 })).status === 202, 10_000, 'feed appends again')
    const running = [...c.ledgers.values(), ...c.sinks, ...c.feeds].filter((p) => !p.lines.some((l) => l.includes('"msg":"stopped"')))
    expect(running).toHaveLength(7) // every process but the one stopped on purpose above
    for (const proc of running) expect(proc.child.exitCode).toBeNull()
  })

  it('an event posted while Redis restarts waits for it and is appended (a restart is a pause, not an error)', async () => {
    await c.redis.kill()
    const posted = postEvent(c.gateway.url, { account: 'r1', amount: 3 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    await c.redis.restart()
    const answer = await posted
    expect(answer).toMatchObject({ status: 202, body: { id: expect.stringMatching(/^\d+-\d+$/) } })
  })
})
