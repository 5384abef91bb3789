import { describe, expect, it } from 'vitest'
import { downstreamHeaders, upstreamHeaders } from '../../../gateway/src/proxy/headers.js'
import { parseProxyPath } from '../../../gateway/src/proxy/path.js'

describe('parseProxyPath', () => {
  it.each([
    ['/api/echo/hello', 'echo', '/hello'],
    ['/api/echo', 'echo', '/'],
    ['/api/echo/', 'echo', '/'],
    ['/api/echo/a/b?x=1&y=%2F', 'echo', '/a/b?x=1&y=%2F'],
    ['/api/kv-leader/keys/k%20one', 'kv-leader', '/keys/k%20one'],
    ['/api/echo/internals', 'echo', '/internals'],
    ['/api/echo/a/internal', 'echo', '/a/internal']
  ])('%s → %s %s', (url, service, path) => {
    expect(parseProxyPath(url)).toEqual({ ok: true, service, path })
  })

  it.each([
    '/api/echo/internal',
    '/api/echo/internal/replicate',
    '/api/echo/INTERNAL/x',
    '/api/echo/%69nternal/x',
    '/api/echo/%2569nternal/x'
  ])('refuses the internal prefix however it is spelt: %s', (url) => {
    expect(parseProxyPath(url)).toMatchObject({ ok: false, code: 'GW_ERR_FORBIDDEN_PATH' })
  })

  it.each([
    '/api/echo/a%2Finternal',
    '/api/echo/a%2finternal',
    '/api/echo/%2e%2e/internal',
    '/api/echo/%252e%252e/internal',
    '/api/echo/../internal',
    '/api/echo/./x',
    '/api/echo//internal/x',
    '/api/echo/a%5Cb',
    '/api/echo/a\\b',
    '/api/echo/%zz',
    '/api/echo/a%00b',
    '/api/Echo/x',
    '/api/../echo',
    '/api//echo'
  ])('refuses a path that hides what it names: %s', (url) => {
    expect(parseProxyPath(url)).toMatchObject({ ok: false, code: 'GW_ERR_BAD_PATH' })
  })
})

describe('header rewriting', () => {
  it('drops hop-by-hop headers and those named in Connection, and adds x-forwarded-*', () => {
    const out = upstreamHeaders({
      host: 'gw:8080',
      connection: 'keep-alive, x-secret',
      'x-secret': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'websocket',
      accept: 'application/json',
      'x-forwarded-for': '10.0.0.1'
    }, { clientIp: '127.0.0.1', requestId: 'r1', host: 'gw:8080' })
    expect(out).toEqual({
      accept: 'application/json',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw:8080',
      'x-request-id': 'r1'
    })
  })

  it('strips hop-by-hop headers from responses and keeps the request id', () => {
    expect(downstreamHeaders({ connection: 'keep-alive', 'keep-alive': 'timeout=72', 'content-type': 'text/plain', 'x-instance-id': 'echo-1' }, 'r2'))
      .toEqual({ 'content-type': 'text/plain', 'x-instance-id': 'echo-1', 'x-request-id': 'r2' })
  })
})
