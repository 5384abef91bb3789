import { describe, expect, it } from 'vitest'
import { unsupportedTransferCoding } from '../../../gateway/src/proxy/framing.js'

describe('response framing the gateway relays (RFC 9112 §6)', () => {
  it.each<[string, string | string[] | undefined, string | undefined]>([
    ['no Transfer-Encoding (Content-Length or an empty body)', undefined, undefined],
    ['chunked', 'chunked', undefined],
    ['chunked in any case, with spaces', ' Chunked ', undefined],
    ['an unknown coding: its end is the close of the connection (cache-tests headers-store-Transfer-Encoding)', 'arizqhypgxofwne', 'arizqhypgxofwne'],
    ['a coding the gateway does not decode, even before chunked', 'gzip, chunked', 'gzip, chunked'],
    ['chunked twice', ['chunked', 'chunked'], 'chunked, chunked'],
    ['an empty field', '', '']
  ])('%s', (_name, value, refused) => {
    expect(unsupportedTransferCoding({ 'transfer-encoding': value })).toBe(refused)
  })
})
