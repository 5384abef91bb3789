/**
 * `npm run verify [-- --wait-ms N] [--acked FILE] [--json]`: compares the feed with the sink for
 * both pairs and exits non-zero unless every input has exactly one output, with the right
 * balance, and no conflicts. With `--acked FILE` (JSON lines: a chaos run's `.history.jsonl`,
 * whose feed records carry the acknowledged `ackId`, or `{"id": …}` lines, or bare ids), every id
 * the feed acknowledged must also still be in the feed and have one output per pair: an
 * acknowledged event that vanished from the stream is reported as lost.
 * Reads REDIS_URL and NINES_PREFIX like the services do; without REDIS_URL it uses the Redis of
 * the cluster `npm start` is running (`.nines/cluster.json`, or under NINES_STATE_DIR).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { commonSpec, loadConfig } from '../shared/src/config.js'
import { ackedIdsFromLines } from '../shared/src/pipeline/acked-ids.js'
import { verifyPairsEventually } from '../shared/src/pipeline/verify.js'
import { createRedis } from '../shared/src/redis.js'
import { commandLine } from './cli.js'

const cli = commandLine('verify', 'usage: npm run verify -- [--wait-ms N] [--acked FILE] [--json]', {
  'wait-ms': { type: 'string' },
  json: { type: 'boolean', default: false },
  acked: { type: 'string' }
})
const values = cli.values
const waitMs = cli.num(values['wait-ms'], '--wait-ms', 5_000, 0, 3_600_000)
let acked: string[] | undefined
if (values.acked !== undefined) {
  try {
    acked = ackedIdsFromLines(readFileSync(values.acked, 'utf8'))
  } catch (err) {
    console.error(`verify: cannot read the acknowledged ids from ${values.acked}: ${(err as Error).message}`)
    process.exit(2)
  }
}
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
  const report = await verifyPairsEventually(redis, keyPrefix, waitMs, acked !== undefined ? { acked } : {})
  if (values.json === true) {
    console.log(JSON.stringify(report, null, 2))
  } else {
    console.table(report.pairs.map(({ examples, ...r }) => r))
    for (const r of report.pairs) if (r.examples.length > 0) console.log(`${r.pair}: ${r.examples.join(', ')}`)
    if (acked !== undefined) console.log(`${acked.length} acknowledged ids checked; ${report.ackedNotInFeed} no longer in the feed (lost)${report.lostExamples.length > 0 ? `: ${report.lostExamples.join(', ')}` : ''}`)
    console.log(report.ok ? 'verify: OK (every input has exactly one output, no conflicts)' : 'verify: FAILED')
  }
  process.exitCode = report.ok ? 0 : 1
} catch (err) {
  console.error(`verify: could not read Redis at ${redisUrl}: ${(err as Error).message}`)
  process.exitCode = 2
} finally {
  redis.disconnect()
}
