import { describe, expect, it } from 'vitest'
import { boolean, ConfigError, integer, loadConfig, number, oneOf, string, url } from '../../../shared/src/config.js'
import { gatewaySpec } from '../../../gateway/src/config.js'

const spec = {
  port: integer('PORT', 0, { min: 0, max: 65535 }),
  ratio: number('RATIO', 0.5, { min: 0, max: 1 }),
  name: string('NAME', 'x', { pattern: /^[a-z]+$/ }),
  mode: oneOf('MODE', ['async', 'majority', 'all'], 'majority'),
  fsync: boolean('FSYNC', false),
  redis: url('REDIS_URL', 'redis://127.0.0.1:6379')
}

describe('loadConfig', () => {
  it('applies defaults and returns a frozen object', () => {
    const config = loadConfig(spec, {})
    expect(config).toEqual({ port: 0, ratio: 0.5, name: 'x', mode: 'majority', fsync: false, redis: 'redis://127.0.0.1:6379' })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('parses every kind of value', () => {
    expect(loadConfig(spec, { PORT: '8080', RATIO: '0.25', NAME: 'abc', MODE: 'all', FSYNC: 'yes', REDIS_URL: 'redis://h:1' }))
      .toEqual({ port: 8080, ratio: 0.25, name: 'abc', mode: 'all', fsync: true, redis: 'redis://h:1' })
  })

  it('reports every bad variable by name in one error', () => {
    let error: unknown
    try {
      loadConfig(spec, { PORT: '70000', RATIO: 'lots', NAME: 'A1', MODE: 'some', FSYNC: 'maybe', REDIS_URL: 'not a url' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const { problems, code } = error as ConfigError
    expect(code).toBe('CFG_ERR_INVALID')
    expect(problems).toHaveLength(6)
    expect(problems[0]).toBe('PORT must be an integer 0–65535, got "70000"')
    for (const name of ['RATIO', 'NAME', 'MODE', 'FSYNC', 'REDIS_URL']) expect(problems.join('\n')).toContain(name)
  })

  it.each(['1.5', '12abc', ' ', '0x10'])('refuses %j as an integer', (raw) => {
    expect(() => loadConfig({ n: integer('N', 1) }, { N: raw })).toThrow(/N must be an integer/)
  })

  it('gives the gateway working defaults', () => {
    const config = loadConfig(gatewaySpec, {})
    expect(config.port).toBe(8080)
    expect(config.maxAttempts).toBe(2)
  })
})
