import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dataNodeScript, sentinelScript } from '../../scripts/compose.js'

/**
 * The start scripts of the compose Redis containers, run by sh with stand-ins for the three
 * programs they call: `redis-cli` answers what a Sentinel would (or nothing), `redis-server` and
 * `redis-sentinel` print what they were started with instead of starting.
 */
const bin = mkdtempSync(join(tmpdir(), 'nines-compose-redis-'))
afterAll(() => { rmSync(bin, { recursive: true, force: true }) })
const stub = (name: string, body: string): void => {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
  chmodSync(join(bin, name), 0o755)
}
// a Sentinel answers only when its name is in SENTINELS_UP, with PRIMARY
stub('redis-cli', 'case " $SENTINELS_UP " in *" $2 "*) echo "$PRIMARY"; echo 6379 ;; *) exit 1 ;; esac')
stub('redis-server', 'echo "redis-server $*"')
stub('redis-sentinel', 'cat "$1"')

function run (lines: string[], env: { SENTINELS_UP?: string, PRIMARY?: string }): string {
  // `$$` is compose's escape: sh sees `$`; the config goes to this test's folder, not /tmp
  const script = lines.join('\n').replaceAll('$$', '$').replaceAll('/tmp/sentinel.conf', join(bin, 'sentinel.conf'))
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, SENTINELS_UP: '', PRIMARY: '', ...env } })
  expect(result.stderr).toBe('')
  return result.stdout.trim()
}

describe('compose Redis data nodes ask the Sentinels before they start', () => {
  it.each([
    ['no Sentinel answers (first start, or no Sentinel profile)', 'redis', 'primary', {}],
    ['no Sentinel answers', 'redis-replica', 'replica of redis', {}],
    ['the Sentinels name redis', 'redis', 'primary', { SENTINELS_UP: 'redis-sentinel-2', PRIMARY: 'redis' }],
    ['the Sentinels name redis-replica (after a failover)', 'redis', 'replica of redis-replica', { SENTINELS_UP: 'redis-sentinel-3', PRIMARY: 'redis-replica' }],
    ['the Sentinels name redis-replica: itself, restarted', 'redis-replica', 'primary', { SENTINELS_UP: 'redis-sentinel-1 redis-sentinel-3', PRIMARY: 'redis-replica' }]
  ] as const)('%s: %s starts as %s', (_, me, expected, env) => {
    const out = run(dataNodeScript(me), env)
    expect(out).toContain('--appendonly yes --appendfsync always')
    expect(out).toContain(`--replica-announce-ip ${me}`)
    if (expected === 'primary') expect(out).not.toContain('--replicaof')
    else expect(out).toMatch(new RegExp(`--replicaof ${expected.replace('replica of ', '')} 6379$`))
  })
})

describe('compose Sentinels ask their peers before they fall back to redis', () => {
  it('monitors redis when no peer answers, announcing its own name', () => {
    const conf = run(sentinelScript('redis-sentinel-1'), {})
    expect(conf).toContain('sentinel monitor nines redis 6379 2')
    expect(conf).toContain('sentinel announce-ip redis-sentinel-1')
  })

  it('monitors the primary a peer names, and never asks itself', () => {
    expect(run(sentinelScript('redis-sentinel-1'), { SENTINELS_UP: 'redis-sentinel-2', PRIMARY: 'redis-replica' })).toContain('sentinel monitor nines redis-replica 6379 2')
    expect(run(sentinelScript('redis-sentinel-1'), { SENTINELS_UP: 'redis-sentinel-1', PRIMARY: 'redis-replica' })).toContain('sentinel monitor nines redis 6379 2')
  })
})
