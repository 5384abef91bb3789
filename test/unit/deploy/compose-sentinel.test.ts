import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { composeSentinelUrl } from '../../../scripts/compose.js'
import { parseRedisTarget } from '../../../shared/src/redis-target.js'

const file = resolve(import.meta.dirname, '../../../docker-compose.yml')
const text = readFileSync(file, 'utf8')

describe('docker-compose.yml, profile sentinel', () => {
  it('adds a replica and three Sentinels only under the profile', () => {
    for (const name of ['redis-replica', 'redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3']) {
      expect(text).toMatch(new RegExp(`\\n  ${name}:\\n[\\s\\S]*?profiles: \\["sentinel"\\]`))
    }
    // the replica follows the primary the Sentinels name, redis when none answers (test/unit/compose-redis.test.ts)
    expect(text).toMatch(/\n {2}redis-replica:\n[\s\S]*?MASTER=redis\n[\s\S]*?--replicaof "\$\$MASTER" 6379\n/)
    expect(text.match(/sentinel monitor nines \$\$MASTER 6379 2/g)).toHaveLength(3)
  })

  it('lets NINES_REDIS_URL switch every process to the Sentinel URL, which the Sentinel services answer', () => {
    const plain = text.match(/REDIS_URL: "\$\{NINES_REDIS_URL:-redis:\/\/redis:6379\}"/g) ?? []
    expect(plain.length).toBe(text.match(/^ +REDIS_URL:/gm)?.length)
    const target = parseRedisTarget(composeSentinelUrl)
    expect(target.mode === 'sentinel' && target.sentinels.map((s) => s.host)).toEqual(['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3'])
  })

  const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0
  it.runIf(compose)('passes `docker-compose config` with the profile on and the Sentinel URL set', () => {
    const result = spawnSync('docker-compose', ['-f', file, 'config'], { encoding: 'utf8', env: { ...process.env, COMPOSE_PROFILES: 'sentinel', NINES_REDIS_URL: composeSentinelUrl } })
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('redis-sentinel-3:')
    expect(result.stdout).toContain(`REDIS_URL: ${composeSentinelUrl}`)
  })
})
