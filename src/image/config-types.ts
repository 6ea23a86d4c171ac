/**
 * The image config's field types, checked once on parse so nothing downstream meets a number where
 * it reads a string (an image is untrusted: `"Cmd": 5` used to end in "is not iterable", and a
 * string Healthcheck.Retries was written into a Dockerfile). The types are the Go structs' that
 * Docker and containerd decode into: what they accept, slim accepts (null for an absent field, a
 * plain string for Entrypoint/Cmd, as Docker's strslice does); anything else is a one-line error
 * naming the field.
 */
import { SlimError } from '../core/errors.js'
import type { ContainerConfig, HealthConfig, HistoryEntry } from './types.js'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : typeof v
}

class FieldError extends SlimError {
  constructor(what: string, field: string, wanted: string, v: unknown) {
    super('format', `${what}: ${field} must be ${wanted}, got ${kindOf(v)}; the image config is malformed, rebuild the image`)
  }
}

function str(what: string, field: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new FieldError(what, field, 'a string', v)
  return v
}

function strList(what: string, field: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw new FieldError(what, field, 'an array of strings', v)
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw new FieldError(what, `${field}[${i}]`, 'a string', x)
  })
  return v as string[]
}

/** Entrypoint and Cmd: an array of strings, a single string (Docker's strslice), or null. */
function command(what: string, field: string, v: unknown): string[] | null | undefined {
  if (v === undefined) return undefined
  if (v === null) return null
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v)) throw new FieldError(what, field, 'an array of strings', v)
  return strList(what, field, v)
}

/** ExposedPorts and Volumes: an object whose values are empty objects (or null). */
function keySet(what: string, field: string, v: unknown): Record<string, object> | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new FieldError(what, field, 'an object', v)
  for (const [k, x] of Object.entries(v)) if (x !== null && !isObject(x)) throw new FieldError(what, `${field}[${JSON.stringify(k)}]`, 'an object', x)
  return v as Record<string, object>
}

function labels(what: string, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new FieldError(what, 'Labels', 'an object of strings', v)
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw new FieldError(what, `Labels[${JSON.stringify(k)}]`, 'a string', x)
  return v as Record<string, string>
}

/** Durations are Go time.Duration (int64 nanoseconds); Retries is a Go int. */
function integer(what: string, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new FieldError(what, field, 'an integer', v)
  return v
}

function healthcheck(what: string, v: unknown): HealthConfig | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new FieldError(what, 'Healthcheck', 'an object', v)
  const h: HealthConfig = {}
  const test = strList(what, 'Healthcheck.Test', v.Test)
  if (test) h.Test = test
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) {
    const n = integer(what, `Healthcheck.${k}`, v[k])
    if (n !== undefined) h[k] = n
  }
  return h
}

/** The runtime part of the config (`config`), typed; unknown fields are dropped. */
export function validateContainerConfig(v: unknown, what: string): ContainerConfig | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw new FieldError(what, 'config', 'an object', v)
  const c: ContainerConfig = {}
  const set = <K extends keyof ContainerConfig>(k: K, x: ContainerConfig[K] | undefined) => {
    if (x !== undefined) c[k] = x
  }
  set('User', str(what, 'User', v.User))
  set('ExposedPorts', keySet(what, 'ExposedPorts', v.ExposedPorts))
  set('Env', strList(what, 'Env', v.Env))
  set('Entrypoint', command(what, 'Entrypoint', v.Entrypoint))
  set('Cmd', command(what, 'Cmd', v.Cmd))
  set('Volumes', keySet(what, 'Volumes', v.Volumes))
  set('WorkingDir', str(what, 'WorkingDir', v.WorkingDir))
  set('Labels', labels(what, v.Labels))
  set('StopSignal', str(what, 'StopSignal', v.StopSignal))
  set('Healthcheck', healthcheck(what, v.Healthcheck))
  set('Shell', strList(what, 'Shell', v.Shell))
  return c
}

/** The history list: objects whose text fields are strings. */
export function validateHistory(v: unknown, what: string): HistoryEntry[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw new FieldError(what, 'history', 'an array', v)
  return v.map((e, i) => {
    if (!isObject(e)) throw new FieldError(what, `history[${i}]`, 'an object', e)
    const h: HistoryEntry = {}
    for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
      const s = str(what, `history[${i}].${k}`, e[k])
      if (s !== undefined) h[k] = s
    }
    if (e.empty_layer !== undefined && e.empty_layer !== null) {
      if (typeof e.empty_layer !== 'boolean') throw new FieldError(what, `history[${i}].empty_layer`, 'a boolean', e.empty_layer)
      h.empty_layer = e.empty_layer
    }
    return h
  })
}
