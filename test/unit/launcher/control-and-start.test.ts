import { describe, expect, it } from 'vitest'
import { controlRequestProblem } from '../../../scripts/launcher/control-auth.js'
import { childEnv } from '../../../scripts/launcher/plan.js'
import { judgeReadyz } from '../../../scripts/launcher/readiness.js'

const token = 'a'.repeat(43)

describe('control API requests', () => {
  const ok = { host: '127.0.0.1:8079', origin: undefined, authorization: `Bearer ${token}` }
  it.each([
    [{}, undefined],
    [{ host: 'localhost:8079' }, undefined],
    [{ host: '[::1]:8079' }, undefined],
    [{ host: '127.0.0.2' }, undefined],
    [{ origin: 'http://evil.example' }, 403],
    [{ origin: 'null' }, 403],
    [{ origin: 'http://127.0.0.1:8079' }, 403],
    [{ host: 'evil.example:8079' }, 403],
    [{ host: '127.0.0.1.evil.example' }, 403],
    [{ host: undefined }, 403],
    [{ authorization: undefined }, 401],
    [{ authorization: `Bearer ${'b'.repeat(43)}` }, 401],
    [{ authorization: `Bearer ${token}x` }, 401],
    [{ authorization: token }, 401]
  ] as Array<[Partial<typeof ok>, number | undefined]>)('%j → %s', (change, status) => {
    expect(controlRequestProblem({ ...ok, ...change }, token)?.status).toBe(status)
  })

  it('lets /healthz through without a token, never from a page', () => {
    expect(controlRequestProblem({ ...ok, authorization: undefined }, token, false)).toBeUndefined()
    expect(controlRequestProblem({ ...ok, origin: 'http://evil.example' }, token, false)?.status).toBe(403)
  })
})

describe('what children inherit from the launcher', () => {
  it('never its PORT, HOST or CONTROL_PORT; the layers win in order', () => {
    const env = childEnv({ PORT: '18080', HOST: '0.0.0.0', CONTROL_PORT: '18081', PATH: '/bin', LOG_LEVEL: 'debug' }, { REDIS_URL: 'redis://x' }, { LOG_LEVEL: 'info', PORT: '0' })
    expect(env).toEqual({ PATH: '/bin', LOG_LEVEL: 'info', REDIS_URL: 'redis://x', PORT: '0' })
  })
})

describe('readiness of the gateway', () => {
  it('counts only an answer from the gateway itself', () => {
    expect(judgeReadyz(200, 'gateway-1', undefined, 'gateway-1', 8080)).toEqual({ state: 'ready' })
    expect(judgeReadyz(503, 'gateway-1', 'not ready: echo: no healthy instance', 'gateway-1', 8080)).toEqual({ state: 'waiting', reason: 'not ready: echo: no healthy instance' })
    expect(judgeReadyz(200, 'echo-1', undefined, 'gateway-1', 8080)).toMatchObject({ state: 'impostor', reason: expect.stringContaining('"echo-1"') })
    expect(judgeReadyz(200, undefined, undefined, 'gateway-1', 8080)).toMatchObject({ state: 'impostor', reason: expect.stringContaining('port 8080 is answered by another program') })
  })
})
