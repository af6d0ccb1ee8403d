/**
 * SIGINT and SIGTERM abort the run, and a second signal or the end of the grace period ends the process. The
 * signals are delivered as Node delivers them to listeners; ending the process is observed, not done.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { RUNNER_CANCELLATION, abortOnSignals, signalExitCode } from '../../src/cancellation.js'
import type { Cancellation } from '../../src/cancellation.js'

const deliver = (name: NodeJS.Signals) => process.emit(name, name)

describe('abortOnSignals', () => {
  let cancellation: Cancellation | undefined
  afterEach(() => {
    cancellation?.dispose()
    jest.useRealTimers()
  })

  it('aborts on the first signal and remembers it, without ending the process', () => {
    const said: NodeJS.Signals[] = []
    const ended: NodeJS.Signals[] = []
    cancellation = abortOnSignals(name => said.push(name), { end: name => ended.push(name) })
    expect(cancellation.signal.aborted).toBe(false)
    expect(cancellation.received).toBeUndefined()
    deliver('SIGTERM')
    expect(cancellation.signal.aborted).toBe(true)
    expect(cancellation.received).toBe('SIGTERM')
    expect(said).toEqual(['SIGTERM'])
    expect(ended).toEqual([])
  })

  it('ends the process on a second signal, saying why', () => {
    const why: string[] = []
    const ended: NodeJS.Signals[] = []
    cancellation = abortOnSignals(() => undefined, {
      onForcedExit: message => why.push(message),
      end: name => ended.push(name)
    })
    deliver('SIGINT')
    deliver('SIGINT')
    expect(ended).toEqual(['SIGINT'])
    expect(why).toEqual(['received SIGINT again: stopping now'])
    expect(process.listenerCount('SIGINT')).toBe(0)
  })

  it('ends the process when it still runs once the grace period is over', () => {
    jest.useFakeTimers()
    const why: string[] = []
    const ended: NodeJS.Signals[] = []
    cancellation = abortOnSignals(() => undefined, {
      graceMs: 9000,
      onForcedExit: message => why.push(message),
      end: name => ended.push(name)
    })
    deliver('SIGTERM')
    jest.advanceTimersByTime(8999)
    expect(ended).toEqual([])
    jest.advanceTimersByTime(1)
    expect(ended).toEqual(['SIGTERM'])
    expect(why).toEqual(['still running 9 s after SIGTERM: stopping now'])
  })

  it("lets the action publish through the runner's SIGTERM, ending it only before the runner's SIGKILL", () => {
    jest.useFakeTimers()
    const why: string[] = []
    const ended: NodeJS.Signals[] = []
    cancellation = abortOnSignals(() => undefined, {
      ...RUNNER_CANCELLATION,
      onForcedExit: message => why.push(message),
      end: name => ended.push(name)
    })
    // The runner's schedule: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that.
    deliver('SIGINT')
    jest.advanceTimersByTime(7500)
    deliver('SIGTERM')
    expect(ended).toEqual([])
    expect(cancellation.received).toBe('SIGINT')
    jest.advanceTimersByTime(1499)
    expect(ended).toEqual([])
    jest.advanceTimersByTime(1)
    expect(ended).toEqual(['SIGINT'])
    expect(why).toEqual(['still running 9 s after SIGINT: stopping now'])
  })

  it('stops listening once disposed', () => {
    const before = process.listenerCount('SIGTERM')
    const said: NodeJS.Signals[] = []
    cancellation = abortOnSignals(name => said.push(name), { end: () => undefined })
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    cancellation.dispose()
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(cancellation.signal.aborted).toBe(false)
    expect(said).toEqual([])
  })

  it('reports the exit status a shell shows for each signal', () => {
    expect([signalExitCode('SIGINT'), signalExitCode('SIGTERM')]).toEqual([130, 143])
  })
})
