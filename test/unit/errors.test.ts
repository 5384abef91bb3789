import { describe, expect, it } from 'vitest'
import { ClusterError, clusterError, defineErrors, errorFactory, toEnvelope } from '../../shared/src/errors.js'
import { codesInSources, documentedCodes, loadErrorCatalogue } from '../support/error-catalogue.js'

const catalogue = await loadErrorCatalogue()
const byCode = new Map(catalogue.map((e) => [e.code, e]))
const documented = documentedCodes()

describe('the error catalogue', () => {
  it('gathers every area\'s table', () => {
    const modules = new Set(catalogue.map((e) => e.module))
    for (const m of ['shared/src/errors.ts', 'services/echo/src/errors.ts', 'services/compute/src/errors.ts', 'services/feed/src/errors.ts', 'services/sink/src/errors.ts',
      'services/kv-leader/src/errors.ts', 'services/kv-quorum/src/errors.ts', 'scripts/launcher/errors.ts']) expect(modules).toContain(m)
  })

  it('declares each code once across all tables', () => {
    const twice = catalogue.filter((e, i) => catalogue.findIndex((o) => o.code === e.code) !== i)
    expect(twice.map((e) => `${e.code} (${e.module})`)).toEqual([])
  })

  it('names codes <AREA>_ERR_<WHAT>, with an error status and a message', () => {
    for (const e of catalogue) {
      expect(e.code).toMatch(/^[A-Z]+_ERR_[A-Z0-9_]+$/)
      expect(e.status, e.code).toBeGreaterThanOrEqual(400)
      expect(e.status, e.code).toBeLessThan(600)
      expect(e.message, e.code).not.toBe('')
    }
  })

  it('has every code the sources answer with', () => {
    const unknown = [...codesInSources()].filter(([code]) => !byCode.has(code)).map(([code, files]) => `${code} in ${files.join(', ')}`)
    expect(unknown).toEqual([])
  })
})

describe('the error docs', () => {
  it.each(catalogue.map((e) => [e.code, e.status, e]))('%s (%i) is documented with its status', (code, status) => {
    const rows = documented.filter((r) => r.code === code)
    expect(rows.length, `no row for ${code} in docs/errors.md or its service's doc`).toBeGreaterThan(0)
    for (const r of rows) expect(r.status, `${r.doc}:${r.line}`).toBe(status)
  })

  it('documents no code that does not exist', () => {
    expect(documented.filter((r) => !byCode.has(r.code)).map((r) => `${r.code} at ${r.doc}:${r.line}`)).toEqual([])
  })
})

describe('errors built from a table', () => {
  const table = defineErrors({
    T_ERR_BAD: { status: 400, message: 'bad' },
    T_ERR_DOWN: { status: 503, message: 'down' },
    T_ERR_UNKNOWN: { status: 503, message: 'unknown', retryable: false }
  })
  const make = errorFactory(table)

  it('take their status from the table, and a 503 is retryable unless the row says not', () => {
    expect([make('T_ERR_BAD', 'x').statusCode, make('T_ERR_BAD', 'x').retryable]).toEqual([400, false])
    expect([make('T_ERR_DOWN', 'x').statusCode, make('T_ERR_DOWN', 'x').retryable]).toEqual([503, true])
    expect(make('T_ERR_UNKNOWN', 'x').retryable).toBe(false)
    expect(make('T_ERR_BAD', 'x', { retryable: true }).retryable).toBe(true)
  })

  it('carry the table\'s message when the thrower gives none', () => {
    expect(make('T_ERR_BAD').message).toBe('bad')
  })

  it('answer with the envelope, details included', () => {
    const err = clusterError('GW_ERR_NO_UPSTREAM', 'none')
    expect(err).toBeInstanceOf(ClusterError)
    expect([err.code, err.statusCode]).toEqual(['GW_ERR_NO_UPSTREAM', 503])
    expect(toEnvelope(err)).toEqual({ error: 'GW_ERR_NO_UPSTREAM', message: 'none', retryable: true })
    expect(toEnvelope(clusterError('GW_ERR_BAD_PATH', 'x'))).toEqual({ error: 'GW_ERR_BAD_PATH', message: 'x' })
    expect(toEnvelope(make('T_ERR_DOWN', 'x', { details: { asked: 2 } }))).toEqual({ error: 'T_ERR_DOWN', message: 'x', retryable: true, asked: 2 })
  })
})
