import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClusterError, clusterError, errorCodes, toEnvelope } from '../../shared/src/errors.js'

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8')

describe('error codes', () => {
  it.each(Object.entries(errorCodes))('%s is documented with its status', (code, status) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`))
    expect(row, `docs/errors.md has no row for ${code}`).toBeDefined()
    expect(row).toContain(`| ${status}`)
  })

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual(Object.keys(errorCodes).sort())
  })

  it('builds errors whose code and status come from the catalogue', () => {
    const err = clusterError('GW_ERR_NO_UPSTREAM', 'none', { retryable: true })
    expect(err).toBeInstanceOf(ClusterError)
    expect(err.code).toBe('GW_ERR_NO_UPSTREAM')
    expect(err.statusCode).toBe(503)
    expect(toEnvelope(err)).toEqual({ error: 'GW_ERR_NO_UPSTREAM', message: 'none', retryable: true })
    expect(toEnvelope(clusterError('GW_ERR_BAD_PATH', 'x'))).toEqual({ error: 'GW_ERR_BAD_PATH', message: 'x' })
  })

  it('follows the <AREA>_ERR_<WHAT> naming', () => {
    for (const code of Object.keys(errorCodes)) expect(code).toMatch(/^[A-Z]+_ERR_[A-Z0-9_]+$/)
  })
})
