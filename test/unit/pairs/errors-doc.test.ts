import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { feedError, feedErrors } from '../../../services/feed/src/errors.js'
import { sinkError, sinkErrors } from '../../../services/sink/src/errors.js'

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/pairs.md'), 'utf8')
const errorsSection = doc.slice(doc.indexOf('## Errors'))

describe('pairs error codes', () => {
  it.each([...Object.entries(feedErrors), ...Object.entries(sinkErrors)])('%s (%i) is documented with its status', (code, status) => {
    expect(errorsSection).toContain(`| \`${code}\` | ${status} |`)
  })

  it('builds errors whose code and status come from the table; 503s are retryable', () => {
    expect(feedError('FEED_ERR_FULL', 'x')).toMatchObject({ code: 'FEED_ERR_FULL', statusCode: 503, retryable: true })
    expect(sinkError('SINK_ERR_STALE_EPOCH', 'x')).toMatchObject({ code: 'SINK_ERR_STALE_EPOCH', statusCode: 409, retryable: false })
  })

  it('documents no code the services do not have', () => {
    const documented = [...errorsSection.matchAll(/\| `((?:FEED|SINK)_ERR_[A-Z_]+)` \|/g)].map((m) => m[1])
    expect(documented.sort()).toEqual([...Object.keys(feedErrors), ...Object.keys(sinkErrors)].sort())
  })
})
