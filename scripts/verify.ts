/**
 * `npm run verify [-- --wait-ms N]`: compares the feed with the sink for both pairs and exits
 * non-zero unless every input has exactly one output, with the right balance, and no conflicts.
 * Reads REDIS_URL and NINES_PREFIX like the services do; without REDIS_URL it uses the Redis of
 * the cluster `npm start` is running (`.nines/cluster.json`, or under NINES_STATE_DIR).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { commonSpec, loadConfig } from '../shared/src/config.js'
import { verifyPairsEventually } from '../shared/src/pipeline/verify.js'
import { createRedis } from '../shared/src/redis.js'

const { values } = parseArgs({ options: { 'wait-ms': { type: 'string', default: '5000' }, json: { type: 'boolean', default: false } } })
const waitMs = Number(values['wait-ms'])
const { redisUrl, keyPrefix } = loadConfig({ redisUrl: commonSpec.redisUrl, keyPrefix: commonSpec.keyPrefix }, { ...process.env, REDIS_URL: process.env.REDIS_URL ?? launchedRedisUrl() })

function launchedRedisUrl (): string | undefined {
  const file = join(process.env.NINES_STATE_DIR ?? resolve(import.meta.dirname, '../..', '.nines'), 'cluster.json')
  if (!existsSync(file)) return undefined
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { redisUrl?: string }).redisUrl
  } catch {
    return undefined
  }
}
const redis = createRedis(redisUrl, undefined, { enableOfflineQueue: true })
try {
  const report = await verifyPairsEventually(redis, keyPrefix, Number.isFinite(waitMs) ? waitMs : 5_000)
  if (values.json === true) {
    console.log(JSON.stringify(report, null, 2))
  } else {
    console.table(report.pairs.map(({ examples, ...r }) => r))
    for (const r of report.pairs) if (r.examples.length > 0) console.log(`${r.pair}: ${r.examples.join(', ')}`)
    console.log(report.ok ? 'verify: OK (every input has exactly one output, no conflicts)' : 'verify: FAILED')
  }
  process.exitCode = report.ok ? 0 : 1
} catch (err) {
  console.error(`verify: could not read Redis at ${redisUrl}: ${(err as Error).message}`)
  process.exitCode = 2
} finally {
  redis.disconnect()
}
