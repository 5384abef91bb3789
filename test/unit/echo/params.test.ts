import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApp, parseEchoParams } from '../../../services/echo/src/app.js'
import { echoSpec } from '../../../services/echo/src/config.js'
import { loadConfig } from '../../../shared/src/config.js'
import { createLogger } from '../../../shared/src/logger.js'

describe('echo parameters', () => {
  it('defaults to no delay and 200', () => {
    expect(parseEchoParams({})).toEqual({ delayMs: 0, status: 200 })
  })
  it('accepts delay and status in range', () => {
    expect(parseEchoParams({ delay: '250', status: '503' })).toEqual({ delayMs: 250, status: 503 })
  })
  it.each([{ delay: '-1' }, { delay: '30001' }, { delay: 'soon' }, { delay: ['1', '2'] }, { status: '99' }, { status: '600' }, { status: '2e2' }])('refuses %j with ECHO_ERR_BAD_PARAM', (query) => {
    expect(() => parseEchoParams(query)).toThrow(expect.objectContaining({ code: 'ECHO_ERR_BAD_PARAM', statusCode: 400 }))
  })
})

describe('echo injected slowness (ECHO_SLOW_MS / ECHO_SLOW_SHARE)', () => {
  const identity = { service: 'echo', instanceId: 'e1', logger: createLogger({ service: 'echo', instanceId: 'e1', level: 'silent' }) }

  it('delays the share of requests the random draw puts under it, and only those', async () => {
    const draws = [0.1, 0.9]
    const app = buildApp(identity, { slow: { ms: 400, share: 0.5 }, random: () => draws.shift() ?? 1 })
    onTestFinished(async () => { await app.close() })
    let slowDone = false
    const slow = app.inject({ url: '/a' }).then((res) => { slowDone = true; return res }) // draws 0.1 < 0.5: slow
    const fast = await app.inject({ url: '/b' }) // draws 0.9: answered while the first still waits
    expect(fast.statusCode).toBe(200)
    expect(slowDone).toBe(false)
    expect((await slow).statusCode).toBe(200)
  })

  it('refuses a share outside 0–1 and a negative delay at start', () => {
    expect(() => loadConfig(echoSpec, { ECHO_SLOW_SHARE: '1.5', ECHO_SLOW_MS: '-1' })).toThrow(/ECHO_SLOW_SHARE.*ECHO_SLOW_MS|ECHO_SLOW_MS.*ECHO_SLOW_SHARE/)
  })
})
