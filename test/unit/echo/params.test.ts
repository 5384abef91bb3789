import { describe, expect, it } from 'vitest'
import { parseEchoParams } from '../../../services/echo/src/app.js'

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
