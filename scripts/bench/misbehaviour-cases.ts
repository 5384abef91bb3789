import { once } from 'node:events'
import { connect, type Socket } from 'node:net'

/** What a raw exchange saw: the interim (1xx) statuses, the final status and its body. */
export interface RawResult {
  /** undefined when no final answer came (the client left, or the connection broke first). */
  status: number | undefined
  interim: number[]
  body: string
  /** The socket error, if any (`ECONNRESET`, `EPIPE`…). */
  error?: string
}

export interface RawPlan {
  /** Request line and header lines, without the blank line that ends them. */
  head: string
  /** Body pieces, sent in order (with `chunked`, each becomes one chunk). */
  pieces?: Buffer[]
  /** Pause before each piece, in ms. */
  gapMs?: number
  chunked?: boolean
  /** Wait for `100 Continue` (up to 1 s, as curl does) before sending the body. */
  waitForContinue?: boolean
  /** Leave (destroy the socket) after sending this many pieces. */
  abortAfter?: number
  /** @default 15000 */
  timeoutMs?: number
}

/**
 * One HTTP/1.1 exchange over a plain socket, so a request can misbehave exactly as a real client
 * does (an `Expect`, a chunked body, a slow or cut upload) — an HTTP client library would fix
 * or refuse most of these. The request asks for `Connection: close`; the answer is read to the end.
 */
export async function rawRequest (baseUrl: string, plan: RawPlan): Promise<RawResult> {
  const { hostname, port } = new URL(baseUrl)
  const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, ''))
  const reader = new ResponseReader(socket)
  const timer = setTimeout(() => socket.destroy(new Error('timed out')), plan.timeoutMs ?? 15_000)
  try {
    await once(socket, 'connect')
    const headers = `${plan.head}\r\nHost: ${hostname}\r\nConnection: close\r\n${plan.chunked === true ? 'Transfer-Encoding: chunked\r\n' : ''}\r\n`
    socket.write(headers)
    if (plan.waitForContinue === true) await reader.waitForAnyStatus(1_000)
    if (reader.status === undefined) await sendPieces(socket, plan)
    return await reader.result()
  } catch (err) {
    return { ...(await reader.result()), error: (err as { code?: string }).code ?? (err as Error).message }
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}

async function sendPieces (socket: Socket, plan: RawPlan): Promise<void> {
  const pieces = plan.pieces ?? []
  for (let i = 0; i < pieces.length; i++) {
    if (plan.abortAfter !== undefined && i >= plan.abortAfter) {
      socket.destroy()
      return
    }
    if (plan.gapMs !== undefined && plan.gapMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.gapMs))
    if (socket.destroyed || !socket.writable) return
    const piece = pieces[i]!
    const data = plan.chunked === true ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece
    // an early answer may close the connection under us: stop sending, keep reading
    if (!socket.write(data)) await Promise.race([once(socket, 'drain'), once(socket, 'close')])
  }
  if (plan.abortAfter !== undefined && plan.abortAfter >= pieces.length) {
    socket.destroy()
    return
  }
  if (plan.chunked === true && socket.writable) socket.write('0\r\n\r\n')
}

/** Collects the bytes of the answer and splits off interim responses. */
class ResponseReader {
  readonly #socket: Socket
  #data = Buffer.alloc(0)
  #closed: Promise<void>
  #error: string | undefined
  status: number | undefined
  readonly interim: number[] = []

  constructor (socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk])
      this.#parseStatuses()
    })
    socket.on('error', (err: Error & { code?: string }) => { this.#error = err.code ?? err.message })
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  async waitForAnyStatus (ms: number): Promise<void> {
    const until = Date.now() + ms
    while (this.interim.length === 0 && this.status === undefined && Date.now() < until && !this.#socket.destroyed) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  async result (): Promise<RawResult> {
    await this.#closed
    const text = this.#data.toString('latin1')
    const final = this.#finalStart(text)
    const body = final === undefined ? '' : decodeBody(text.slice(final))
    return { status: this.status, interim: this.interim, body, ...(this.#error !== undefined && this.status === undefined ? { error: this.#error } : {}) }
  }

  #parseStatuses (): void {
    const text = this.#data.toString('latin1')
    let at = 0
    this.interim.length = 0
    for (;;) {
      const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text.slice(at))
      if (m === null) return
      const status = Number(m[1])
      if (status >= 200) {
        this.status = status
        return
      }
      const end = text.indexOf('\r\n\r\n', at)
      if (end === -1) return
      this.interim.push(status)
      at = end + 4
    }
  }

  #finalStart (text: string): number | undefined {
    let at = 0
    for (;;) {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.slice(at))
      if (m === null) return undefined
      if (Number(m[1]) >= 200) return at
      const end = text.indexOf('\r\n\r\n', at)
      if (end === -1) return undefined
      at = end + 4
    }
  }
}

function decodeBody (response: string): string {
  const split = response.indexOf('\r\n\r\n')
  if (split === -1) return ''
  const head = response.slice(0, split).toLowerCase()
  let body = response.slice(split + 4)
  if (/\r\ntransfer-encoding: *chunked/.test(head)) {
    let out = ''
    for (;;) {
      const line = body.indexOf('\r\n')
      const size = parseInt(body.slice(0, line), 16)
      if (line === -1 || !Number.isFinite(size) || size === 0) break
      out += body.slice(line + 2, line + 2 + size)
      body = body.slice(line + 2 + size + 2)
    }
    return out
  }
  return body
}

/** A client mistake (or a request that asks for trouble) and what the gateway must answer. */
export interface Misbehaviour {
  name: string
  /** The status the client must get; undefined when it leaves before any answer. */
  expected: number | undefined
  /** The `error` code of the JSON answer, for an error answer. */
  errorCode?: string
  run: (gatewayUrl: string) => Promise<RawResult>
}

export interface MisbehaviourLimits {
  /** The gateway's `GW_BODY_LIMIT_BYTES`. */
  gatewayBodyLimit: number
  /** The instances' own body limit (echo: 1 MiB); below the gateway's, so an instance can answer early. */
  instanceBodyLimit: number
  /** The gateway's `GW_TRY_TIMEOUT_MS`. */
  tryTimeoutMs: number
}

const kib = 1_024

function pieces (total: number, size = 64 * kib): Buffer[] {
  const out: Buffer[] = []
  for (let sent = 0; sent < total; sent += size) out.push(Buffer.alloc(Math.min(size, total - sent), 0x61))
  return out
}

/**
 * Every client misbehaviour the gateway must survive without blaming an instance, each with the
 * answer it must give. test/integration/gateway-bad-input.test.ts runs them one by one;
 * `npm run bench:misbehaviour`
 * sends one of each per second beside a steady load.
 */
export function misbehaviours (l: MisbehaviourLimits): Misbehaviour[] {
  if (l.gatewayBodyLimit <= l.instanceBodyLimit + 256 * kib) throw new Error('the gateway limit must exceed the instance limit by more than 256 KiB for an early answer')
  const early = l.instanceBodyLimit + 256 * kib
  return [
    {
      name: 'Expect: 100-continue',
      expected: 200,
      run: async (url) => await rawRequest(url, { head: `PUT /api/echo/expect HTTP/1.1\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\nContent-Length: ${4 * kib}`, pieces: pieces(4 * kib), waitForContinue: true })
    },
    {
      name: 'Expect: 100-continue with a body over the limit',
      expected: 413,
      errorCode: 'HTTP_ERR_PAYLOAD_TOO_LARGE',
      run: async (url) => await rawRequest(url, { head: `PUT /api/echo/expect HTTP/1.1\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\nContent-Length: ${l.gatewayBodyLimit + 1}`, pieces: pieces(l.gatewayBodyLimit + 1), waitForContinue: true })
    },
    {
      name: 'chunked body over the limit',
      expected: 413,
      errorCode: 'HTTP_ERR_PAYLOAD_TOO_LARGE',
      run: async (url) => await rawRequest(url, { head: 'POST /api/echo/chunked HTTP/1.1\r\nContent-Type: text/plain', chunked: true, pieces: pieces(l.gatewayBodyLimit + 128 * kib) })
    },
    {
      name: 'the instance answers early (its own 413)',
      expected: 413,
      errorCode: 'HTTP_ERR_PAYLOAD_TOO_LARGE',
      run: async (url) => await rawRequest(url, { head: `POST /api/echo/early HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: ${early}`, pieces: pieces(early) })
    },
    {
      name: 'slow upload (longer than the try timeout)',
      expected: 200,
      run: async (url) => await rawRequest(url, { head: 'POST /api/echo/slow-upload HTTP/1.1\r\nContent-Type: text/plain', chunked: true, pieces: pieces(32 * kib, 8 * kib), gapMs: Math.ceil(l.tryTimeoutMs / 2) })
    },
    {
      name: 'aborts mid-body (a body small enough to be buffered)',
      expected: undefined,
      run: async (url) => await rawRequest(url, { head: `POST /api/echo/abort HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: ${32 * kib}`, pieces: pieces(32 * kib, 8 * kib), abortAfter: 1 })
    },
    {
      name: 'aborts mid-body (a streamed body)',
      expected: undefined,
      run: async (url) => await rawRequest(url, { head: `POST /api/echo/abort HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: ${512 * kib}`, pieces: pieces(512 * kib), abortAfter: 2, gapMs: 20 })
    },
    {
      name: '?delay= past the try timeout',
      expected: 504,
      errorCode: 'GW_ERR_UPSTREAM_TIMEOUT',
      run: async (url) => await rawRequest(url, { head: `GET /api/echo/slow?delay=${Math.min(30_000, l.tryTimeoutMs * 2)} HTTP/1.1` })
    },
    {
      name: '?status=503',
      expected: 503,
      run: async (url) => await rawRequest(url, { head: 'GET /api/echo/unavailable?status=503 HTTP/1.1' })
    }
  ]
}
