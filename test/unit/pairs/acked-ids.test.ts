import { describe, expect, it } from 'vitest'
import { ackedIdsFromLines } from '../../../shared/src/pipeline/acked-ids.js'

describe('acknowledged ids for verify --acked', () => {
  it('reads a chaos history (feed records with ackId), {"id"} lines and bare ids', () => {
    const text = [
      '{"seq":0,"workload":"feed","kind":"request","outcome":"ok","ackId":"1700000000000-0"}',
      '{"seq":1,"workload":"echo","kind":"request","outcome":"ok"}',
      '{"seq":2,"workload":"feed","kind":"request","outcome":"fail","cause":"timeout"}',
      '{"id":"1700000000001-3"}',
      '1700000000002-0',
      ''
    ].join('\n')
    expect(ackedIdsFromLines(text)).toEqual(['1700000000000-0', '1700000000001-3', '1700000000002-0'])
  })

  it('refuses a file that is not one, naming the line', () => {
    expect(() => ackedIdsFromLines('1-0\nhello')).toThrow(/line 2/)
    expect(() => ackedIdsFromLines('{"name":"x"}')).toThrow(/line 1 has no stream id/)
  })
})
