import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { computeError, computeErrorCodes } from '../../../services/compute/src/errors.js'

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/compute.md'), 'utf8')
const errorsSection = doc.slice(doc.indexOf('## Errors'), doc.indexOf('\n## ', doc.indexOf('## Errors') + 1))

describe('compute error codes', () => {
  it.each(Object.entries(computeErrorCodes))('%s (%i) is documented with its status', (code, status) => {
    const row = errorsSection.split('\n').find((line) => line.startsWith(`| \`${code}\``))
    expect(row, `docs/compute.md has no row for ${code}`).toBeDefined()
    expect(row).toContain(String(status))
    const err = computeError(code as keyof typeof computeErrorCodes, 'x')
    expect([err.code, err.statusCode]).toEqual([code, status])
    expect(err.retryable).toBe(status === 503)
  })

  it('documents no code that does not exist', () => {
    const documented = [...errorsSection.matchAll(/^\| `(COMPUTE_ERR_[A-Z_]+)`/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual(Object.keys(computeErrorCodes).sort())
  })
})
