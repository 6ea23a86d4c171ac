import { describe, expect, it } from 'vitest'
import { isShellFile } from '../../../src/advise/requirements.js'
import { shellForm } from '../../../src/inspect/entrypoint/command.js'
import { runtimeLanguage } from '../../../src/inspect/interpreters/language.js'
import { isShellName, SHELL_NAMES } from '../../../src/layers/shells.js'

describe('one list of shell names', () => {
  it('every stage that asks "is this a shell?" answers from SHELL_NAMES', () => {
    for (const name of SHELL_NAMES) {
      expect(isShellName(name), name).toBe(true)
      expect(runtimeLanguage(name, name), name).toBe('shell')
      expect(shellForm([`/usr/bin/${name}`, '-c', 'exec app']), name).toEqual({ shell: `/usr/bin/${name}`, script: 'exec app', rest: [] })
      expect(shellForm([name, '-c', 'exec app', 'x0']), name).toEqual({ shell: name, script: 'exec app', rest: ['x0'] })
      expect(isShellFile(`/bin/${name}`), name).toBe(true)
    }
  })

  it('near names are not shells; busybox is a shell file but not a shell name', () => {
    for (const name of ['shx', 'bash5', 'fish-sh', 'busybox', 'csh', '']) {
      expect(isShellName(name), name).toBe(false)
      expect(shellForm([`/bin/${name}`, '-c', 'x']), name).toBeUndefined()
    }
    expect(shellForm(['/bin/sh/', '-c', 'x'])).toBeUndefined()
    expect(isShellFile('/bin/busybox')).toBe(true)
    expect(isShellFile('/bin/busybox.static')).toBe(false)
    expect(isShellFile('/usr/bin/python3')).toBe(false)
  })
})
