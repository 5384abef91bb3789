import { describe, expect, it } from 'vitest'
import { mustLeave, STALE_ANSWER_WINDOW_MS } from '../../../shared/src/sentinel-switch.js'

describe('leaving a server the Sentinels no longer name', () => {
  const announced = { host: '127.0.0.1', port: 6380, atMs: 1_000 }

  it('drops a connection to any other server while the Sentinels may still disagree', () => {
    expect(mustLeave({ address: '127.0.0.1', port: 6379 }, announced, 1_500)).toBe(true) // the old primary, woken
    expect(mustLeave({ address: '127.0.0.2', port: 6380 }, announced, 1_500)).toBe(true)
    expect(mustLeave({}, announced, 1_500)).toBe(true) // no socket to judge: ask again
  })

  it('keeps a connection to the announced primary, however its address is written', () => {
    expect(mustLeave({ address: '127.0.0.1', port: 6380 }, announced, 1_500)).toBe(false)
    expect(mustLeave({ address: '::ffff:127.0.0.1', port: 6380 }, announced, 1_500)).toBe(false)
    expect(mustLeave({ address: '::1', port: 6380 }, { ...announced, host: 'localhost' }, 1_500)).toBe(false)
  })

  it('trusts the Sentinels again once they had time to agree, or when nothing was announced', () => {
    expect(mustLeave({ address: '127.0.0.1', port: 6379 }, announced, 1_000 + STALE_ANSWER_WINDOW_MS)).toBe(false)
    expect(mustLeave({ address: '127.0.0.1', port: 6379 }, undefined, 1_500)).toBe(false)
  })
})
