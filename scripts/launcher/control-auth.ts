import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Who may drive the launcher's control API (kill, freeze, scale, restart Redis): only a local
 * program that can read the token the launcher wrote to its state dir. A web page cannot: the
 * token goes in a header (which makes a browser send a CORS preflight, never answered), any request
 * carrying an `Origin` is refused (browsers add it to cross-origin requests, even "simple" ones
 * that need no preflight), and so is any `Host` that is not loopback (DNS rebinding: a page whose
 * name points at 127.0.0.1 is still same-origin to the browser, but not by its Host).
 */
const controlTokenFile = 'control-token'
const controlTokenHeader = 'authorization'

export function controlTokenPath (stateDir: string): string {
  return join(stateDir, controlTokenFile)
}

/** A fresh random token, written readable by this user only. */
export function writeControlToken (stateDir: string): string {
  const token = randomBytes(32).toString('base64url')
  writeFileSync(controlTokenPath(stateDir), `${token}\n`, { mode: 0o600 })
  return token
}

export function readControlToken (stateDir: string): string | undefined {
  const file = controlTokenPath(stateDir)
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

/** The header a client sends with `token`. */
export function controlAuthHeaders (token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { [controlTokenHeader]: `Bearer ${token}` }
}

export interface ControlRequest {
  host: string | undefined
  origin: string | undefined
  authorization: string | undefined
}

/** Why a request to the control API is refused (403: where it comes from, 401: no valid token), or undefined. */
export function controlRequestProblem (r: ControlRequest, token: string, needsToken = true): { status: 401 | 403, message: string } | undefined {
  if (r.origin !== undefined) return { status: 403, message: 'requests from web pages (with an Origin) are refused' }
  if (!isLoopbackHost(r.host)) return { status: 403, message: `Host ${JSON.stringify(r.host ?? '')} is not loopback` }
  if (!needsToken) return undefined
  const sent = /^Bearer ([A-Za-z0-9_-]{16,256})$/.exec(r.authorization ?? '')?.[1]
  if (sent === undefined || !sameText(sent, token)) return { status: 401, message: `a valid token is required (Authorization: Bearer <the token in ${controlTokenFile} of the state dir>; npm run ctl sends it)` }
  return undefined
}

function isLoopbackHost (host: string | undefined): boolean {
  if (host === undefined) return false
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}

function sameText (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
