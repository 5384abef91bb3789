import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderCompose, renderSentinelEnv } from '../../scripts/compose.js'
import { instanceSpecs, topology } from '../../topology.js'

const root = resolve(import.meta.dirname, '../..')
const file = resolve(root, 'docker-compose.yml')

describe('docker-compose.yml', () => {
  it('is exactly what topology.ts generates (run `npm run compose` after changing the topology)', () => {
    expect(readFileSync(file, 'utf8')).toBe(renderCompose(topology))
  })

  it('has the Sentinel env file `npm run compose` writes beside it', () => {
    expect(readFileSync(resolve(root, 'deploy/compose/sentinel.env'), 'utf8')).toBe(renderSentinelEnv())
  })

  it('has every instance of the topology, with replicas for interchangeable ones', () => {
    const text = readFileSync(file, 'utf8')
    for (const [service, spec] of Object.entries(topology.services)) {
      if (typeof spec.instances === 'number') {
        expect(text).toContain(`  ${service}:\n`)
        expect(text).toMatch(new RegExp(`  ${service}:\\n[\\s\\S]*?replicas: ${spec.instances}\\n`))
      } else {
        for (const instance of instanceSpecs(service, spec)) expect(text).toContain(`  ${instance.id}:\n`)
      }
    }
  })

  const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0
  it.runIf(compose)('passes `docker-compose config` validation', () => {
    const result = spawnSync('docker-compose', ['-f', file, 'config', '--quiet'], { encoding: 'utf8', cwd: root })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})
