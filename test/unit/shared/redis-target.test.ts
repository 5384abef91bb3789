import { describe, expect, it } from 'vitest'
import { loadConfig, commonSpec } from '../../../shared/src/config.js'
import { parseRedisTarget, redactRedisUrl, sentinelUrl } from '../../../shared/src/redis-target.js'
import { sentinelOptions } from '../../../shared/src/redis.js'

describe('parseRedisTarget', () => {
  it('reads one server, with no replica required by default', () => {
    expect(parseRedisTarget('redis://127.0.0.1:6379')).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379', minReplicas: 0 })
  })

  it('takes minReplicas off a plain URL (ioredis would read it as an option)', () => {
    expect(parseRedisTarget('redis://:pw@h:1/2?minReplicas=1')).toEqual({ mode: 'single', url: 'redis://:pw@h:1/2', minReplicas: 1 })
  })

  it('reads a Sentinel list and master name, defaulting the port and one replica', () => {
    expect(parseRedisTarget('redis+sentinel://10.0.0.1:26380,sentinel-b,[::1]:26381/nines')).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26380 }, { host: 'sentinel-b', port: 26379 }, { host: '::1', port: 26381 }],
      masterName: 'nines',
      db: 0,
      minReplicas: 1
    })
  })

  it('reads credentials, database and parameters of the Sentinel form', () => {
    expect(parseRedisTarget('redis+sentinel://app:s%40cret@h1:1,h2:2/mymaster/3?minReplicas=2&sentinelPassword=sp')).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }],
      masterName: 'mymaster',
      db: 3,
      username: 'app',
      password: 's@cret',
      sentinelPassword: 'sp',
      minReplicas: 2
    })
  })

  it.each([
    ['not a url', /not a URL/],
    ['http://h:1', /unsupported scheme/],
    ['redis+sentinel://h1:1,h2:2', /master name/],
    ['redis+sentinel://h1:1/', /master name/],
    ['redis+sentinel:///nines', /Sentinel/],
    ['redis+sentinel://h1:99999/nines', /out of range/],
    ['redis+sentinel://h 1:1/nines', /not a Sentinel address/],
    ['redis+sentinel://h1/nines/x', /database number/],
    ['redis+sentinel://h1/nines?minReplicas=-1', /minReplicas/],
    ['redis+sentinel://h1/nines?family=6', /unknown redis\+sentinel parameter "family"/]
  ])('refuses %j', (raw, message) => {
    expect(() => parseRedisTarget(raw)).toThrow(message)
  })
})

describe('REDIS_URL in the common config', () => {
  it('accepts both forms and names the variable when wrong', () => {
    expect(loadConfig(commonSpec, { REDIS_URL: 'redis+sentinel://a:1,b:2/nines' }).redisUrl).toBe('redis+sentinel://a:1,b:2/nines')
    expect(loadConfig(commonSpec, { REDIS_URL: 'redis://h:1' }).redisUrl).toBe('redis://h:1')
    expect(() => loadConfig(commonSpec, { REDIS_URL: 'redis+sentinel://a:1' })).toThrow(/REDIS_URL must be redis:\/\/host:port or redis\+sentinel/)
  })
})

describe('sentinelUrl and redaction', () => {
  it('round-trips through the parser', () => {
    const url = sentinelUrl([{ host: '127.0.0.1', port: 26379 }, { host: '::1', port: 26380 }], 'nines', { minReplicas: 1 })
    expect(url).toBe('redis+sentinel://127.0.0.1:26379,[::1]:26380/nines?minReplicas=1')
    const target = parseRedisTarget(url)
    expect(target.mode === 'sentinel' && target.sentinels).toEqual([{ host: '127.0.0.1', port: 26379 }, { host: '::1', port: 26380 }])
  })

  it('hides passwords', () => {
    expect(redactRedisUrl('redis+sentinel://u:pw@h:1/n?sentinelPassword=x')).toBe('redis+sentinel://u:***@h:1/n?sentinelPassword=***')
    expect(redactRedisUrl('redis://:pw@h:1')).toBe('redis://:***@h:1')
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1')
  })
})

describe('sentinelOptions', () => {
  it('gives ioredis the Sentinels and the master, no failover detector (it can end a client for good) and no secrets it was not given', () => {
    const target = parseRedisTarget('redis+sentinel://h1:1,h2:2/nines/1')
    if (target.mode !== 'sentinel') throw new Error('expected sentinel')
    const options = sentinelOptions(target)
    expect(options).toMatchObject({ sentinels: [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }], name: 'nines', role: 'master', db: 1, failoverDetector: false })
    expect(options).not.toHaveProperty('password')
    expect(options.sentinelRetryStrategy?.(100)).toBe(500)
  })
})
