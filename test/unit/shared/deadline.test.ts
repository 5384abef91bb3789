import { describe, expect, it } from 'vitest'
import { createApp } from '../../../shared/src/service/create-app.js'
import { deadlineHeader, deadlinePassed } from '../../../shared/src/service/deadline.js'
import { createLogger } from '../../../shared/src/logger.js'

describe('deadline propagation', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['soon', false],
    [String(1_000), true],
    [String(5_000), false]
  ])('deadline %j at t=2000 → passed: %s', (header, passed) => {
    expect(deadlinePassed(header, 2_000)).toBe(passed)
  })

  it('a request that arrives after its deadline is refused before the handler runs', async () => {
    const app = createApp({ service: 't', instanceId: 't-1', logger: createLogger({ service: 't', instanceId: 't-1', level: 'silent' }) })
    let ran = 0
    app.put('/keys/k', async () => { ran += 1; return { ok: true } })
    const late = await app.inject({ method: 'PUT', url: '/keys/k', payload: 'v', headers: { [deadlineHeader]: String(Date.now() - 1_000), 'content-type': 'text/plain' } })
    expect(late.statusCode).toBe(503)
    expect(late.json()).toMatchObject({ error: 'HTTP_ERR_DEADLINE_PASSED' })
    const timely = await app.inject({ method: 'PUT', url: '/keys/k', payload: 'v', headers: { [deadlineHeader]: String(Date.now() + 10_000), 'content-type': 'text/plain' } })
    expect(timely.statusCode).toBe(200)
    expect(ran).toBe(1)
    await app.close()
  })
})
