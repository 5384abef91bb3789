import { describe, expect, it } from 'vitest'
import { clientNotModified, entityTags, freshenFields, notModifiedSelects, validatorsToSend, weakMatch } from '../../../../gateway/src/cache/validation.js'

const lm = 'Wed, 01 Jan 2020 00:00:00 GMT'
const now = Date.UTC(2026, 0, 1)

describe('conditional requests the cache sends (RFC 9111 §4.3.1)', () => {
  it('sends the stored ETag and Last-Modified', () => {
    expect(validatorsToSend({ etag: '"a"', lastModified: lm }, {})).toEqual({ 'if-none-match': '"a"', 'if-modified-since': lm })
    expect(validatorsToSend({ etag: 'W/"a"' }, {})).toEqual({ 'if-none-match': 'W/"a"' }) // conditional-etag-weak-generate-weak
  })

  it("adds the stored entity-tag to the client's own, and keeps the client's If-Modified-Since", () => {
    expect(validatorsToSend({ etag: '"a"', lastModified: lm }, { 'if-none-match': '"b"', 'if-modified-since': 'x' })).toEqual({ 'if-none-match': '"b", "a"', 'if-modified-since': 'x' })
    expect(validatorsToSend({ etag: '"a"' }, { 'if-none-match': '"a"' })).toEqual({ 'if-none-match': '"a"' })
  })

  it('leaves If-None-Match: * alone', () => {
    expect(validatorsToSend({ etag: '"a"' }, { 'if-none-match': '*' })).toBeUndefined()
  })
})

describe('freshening with a 304 (RFC 9111 §4.3.4, §3.2)', () => {
  it('selects the stored response by entity-tag, else Last-Modified, else only when the validators were ours', () => {
    expect(notModifiedSelects({ etag: '"a"' }, { etag: '"a"' }, false)).toBe(true)
    expect(notModifiedSelects({ etag: '"a"' }, { etag: 'W/"a"' }, false)).toBe(true)
    expect(notModifiedSelects({ etag: '"a"' }, { etag: '"b"' }, true)).toBe(false)
    expect(notModifiedSelects({ lastModified: lm }, { 'last-modified': lm }, false)).toBe(true)
    expect(notModifiedSelects({ lastModified: lm }, { 'last-modified': 'Thu, 02 Jan 2020 00:00:00 GMT' }, true)).toBe(false)
    expect(notModifiedSelects({ etag: '"a"' }, {}, true)).toBe(true)
    expect(notModifiedSelects({ etag: '"a"' }, {}, false)).toBe(false)
  })

  it('updates every field but Content-Length and those describing the stored bytes', () => {
    expect(freshenFields(
      { 'cache-control': 'max-age=1', 'test-header': 'A', 'content-encoding': 'gzip', 'content-type': 'text/plain', etag: '"a"' },
      { 'cache-control': 'max-age=3600', 'test-header': 'B', 'content-encoding': 'br', 'content-length': '0', 'content-type': 'text/html', etag: '"b"', connection: 'close' }
    )).toEqual({ 'cache-control': 'max-age=3600', 'test-header': 'B', 'content-encoding': 'gzip', 'content-type': 'text/html', etag: '"b"' })
  })
})

describe("the cache's answer to a client's conditional request (RFC 9110 §13.2.2)", () => {
  const stored = { etag: '"abcdef"', lastModified: lm, date: 'Thu, 01 Jan 2026 00:00:00 GMT' }
  it.each<[Record<string, string>, boolean]>([
    [{ 'if-none-match': '"abcdef"' }, true], // conditional-etag-strong-respond
    [{ 'if-none-match': '"1234", "abcdef", "5678"' }, true], // …-multiple-second
    [{ 'if-none-match': 'W/"abcdef"' }, true], // weak comparison
    [{ 'if-none-match': 'abcdef' }, true], // an unquoted tag (lenient)
    [{ 'if-none-match': '*' }, true],
    [{ 'if-none-match': '"other"' }, false],
    [{ 'if-none-match': '"abcdef"', 'if-modified-since': 'Tue, 31 Dec 2019 00:00:00 GMT' }, true], // conditional-etag-precedence
    [{ 'if-none-match': '"other"', 'if-modified-since': lm }, false], // If-None-Match decides alone
    [{ 'if-modified-since': lm }, true], // conditional-lm-fresh
    [{ 'if-modified-since': 'Thu, 02 Jan 2020 00:00:00 GMT' }, true], // later than Last-Modified
    [{ 'if-modified-since': 'Tue, 31 Dec 2019 00:00:00 GMT' }, false],
    [{ 'if-modified-since': 'garbage' }, false],
    [{}, false]
  ])('%j → 304: %s', (headers, expected) => {
    expect(clientNotModified(200, stored, headers, now)).toBe(expected)
  })

  it('compares with Date when there is no Last-Modified, and only for 2xx', () => {
    expect(clientNotModified(200, { date: 'Thu, 01 Jan 2026 00:00:00 GMT' }, { 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, now)).toBe(true)
    expect(clientNotModified(404, stored, { 'if-none-match': '"abcdef"' }, now)).toBe(false)
  })

  it('splits entity-tag lists outside quotes and compares weakly', () => {
    expect(entityTags('"a,b", W/"c" ,d')).toEqual(['"a,b"', 'W/"c"', 'd'])
    expect(weakMatch('W/"x"', '"x"')).toBe(true)
    expect(weakMatch('"x"', '"y"')).toBe(false)
  })
})
