import { describe, expect, it } from 'vitest'
import { checkRecord } from '../../../shared/src/registry/types.js'

const good = { id: 'echo-1', service: 'echo', url: 'http://127.0.0.1:40123', role: 'member', startedAt: 1, meta: { epoch: 3, pair: 'hot-hot', ready: true } }
const raw = (change: Record<string, unknown>): string => JSON.stringify({ ...good, ...change })

describe('registry records', () => {
  it('accepts a well-formed record, with defaults for role and startedAt', () => {
    expect(checkRecord(JSON.stringify(good))).toEqual({ ok: true, record: good })
    expect(checkRecord(JSON.stringify({ id: 'a', service: 'echo', url: 'https://[::1]:8443/' }))).toEqual({ ok: true, record: { id: 'a', service: 'echo', url: 'https://[::1]:8443', role: 'member', startedAt: 0 } })
  })

  it.each([
    ['no record', null],
    ['not JSON', '{{{'],
    ['not a JSON object', '[1,2]'],
    ['not a JSON object', 'null'],
    ['not a JSON object', '42'],
    ['bad id', raw({ id: undefined })],
    ['bad id', raw({ id: 'has spaces' })],
    ['bad id', raw({ id: 'x'.repeat(200) })],
    ['bad service', raw({ service: '../etc' })],
    ['bad service', raw({ service: '__proto__' })],
    ['bad service', raw({ service: 7 })],
    ['bad url', raw({ url: 'not a url' })],
    ['bad url', raw({ url: 'ftp://127.0.0.1:21' })],
    ['bad url', raw({ url: 'javascript:alert(1)' })],
    ['bad url', raw({ url: 'http://127.0.0.1:1/some/path' })],
    ['bad url', raw({ url: 'http://user:secret@127.0.0.1:1' })],
    ['bad url', raw({ url: 'http://127.0.0.1:99999' })],
    ['bad url', raw({ url: 'http://' })],
    ['bad url', raw({ url: 123 })],
    ['bad role', raw({ role: 42 })],
    ['bad role', raw({ role: 'LEADER!!' })],
    ['bad role', raw({ role: 'x'.repeat(100) })],
    ['bad startedAt', raw({ startedAt: 'yesterday' })],
    ['bad startedAt', raw({ startedAt: -1 })],
    ['bad meta', raw({ meta: { nested: { a: 1 } } })],
    ['bad meta', raw({ meta: [1] })],
    ['bad meta', raw({ meta: { text: 'x'.repeat(300) } })],
    ['bad meta', raw({ meta: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) })]
  ])('skips a record with %s: %s', (problem, text) => {
    const check = checkRecord(text)
    expect(check.ok).toBe(false)
    if (!check.ok) expect(check.problem).toMatch(new RegExp(`^${problem.replace(/[()]/g, '\\$&')}`))
  })
})
