/**
 * A Java class file's constant pool, read by hand from the JVM specification (JVMS 17 §4.1, §4.4):
 * the classes it names (CONSTANT_Class), the types in its descriptors and signatures (`Lpkg/Name;`
 * in CONSTANT_Utf8 entries that are not string literals), its string literals, and for
 * module-info.class the Module and ModulePackages attributes (§4.7.25, §4.7.26). Class files come
 * from images, so every length is checked against the buffer and a bad file is an error, never a
 * read past the end.
 */

/** Constant pool tags (JVMS Table 4.4-B) and the bytes each entry takes after its tag. */
const UTF8 = 1
const CLASS = 7
const STRING = 8
const METHODREF = 10
const INTERFACE_METHODREF = 11
const NAME_AND_TYPE = 12
const MODULE = 19
const PACKAGE = 20
const FIXED: Record<number, number> = { 3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2 }

export class ClassFileError extends Error {}

interface Pool {
  tags: Uint8Array
  /** Offset of each entry's body (after the tag). */
  at: Uint32Array
  utf8: (i: number) => string
  /** The u2 at the start of entry i's body (the name index of Class, String, Module, Package). */
  ref: (i: number) => number
  end: number
}

function u2(b: Buffer, o: number): number {
  if (o + 2 > b.length) throw new ClassFileError(`truncated at byte ${o}`)
  return b.readUInt16BE(o)
}

function u4(b: Buffer, o: number): number {
  if (o + 4 > b.length) throw new ClassFileError(`truncated at byte ${o}`)
  return b.readUInt32BE(o)
}

function readPool(b: Buffer): Pool {
  if (b.length < 10 || u4(b, 0) !== 0xcafebabe) throw new ClassFileError('not a class file (no CAFEBABE magic)')
  const count = u2(b, 8)
  const tags = new Uint8Array(count)
  const at = new Uint32Array(count)
  let o = 10
  for (let i = 1; i < count; i++) {
    if (o >= b.length) throw new ClassFileError(`truncated in constant pool entry ${i}`)
    const tag = b[o]!
    tags[i] = tag
    at[i] = o + 1
    if (tag === UTF8) o += 3 + u2(b, o + 1)
    else if (FIXED[tag] !== undefined) o += 1 + FIXED[tag]!
    else throw new ClassFileError(`unknown constant pool tag ${tag} at entry ${i}`)
    if (o > b.length) throw new ClassFileError(`truncated in constant pool entry ${i}`)
    if (tag === 5 || tag === 6) i++ // a long or double takes two slots (JVMS §4.4.5)
  }
  const check = (i: number, tag: number): void => {
    if (i <= 0 || i >= count || tags[i] !== tag) throw new ClassFileError(`constant pool index ${i} is not a tag-${tag} entry`)
  }
  return {
    tags,
    at,
    end: o,
    // Modified UTF-8 (§4.4.7) read as UTF-8: names differ only for NUL and supplementary characters.
    utf8: (i) => {
      check(i, UTF8)
      const len = b.readUInt16BE(at[i]!)
      return b.toString('utf8', at[i]! + 2, at[i]! + 2 + len)
    },
    ref: (i) => b.readUInt16BE(at[i]!),
  }
}

/** What one class file references. */
export interface ClassRefs {
  /** The class itself, internal form ("com/example/Hello"). */
  name: string
  /** Every class it names or uses in a descriptor, internal form, arrays unwrapped. */
  classes: Set<string>
  /** String literals (CONSTANT_String): class names for Class.forName live there. */
  strings: string[]
  /** Methods it calls, "owner.name" ("java/lang/Class.forName"). */
  calls: Set<string>
}

const DESCRIPTOR_CLASS = /L([A-Za-z_$][\w$]*(?:\/[\w$]+)+)[;<]/g

/** The classes a class file references (its constant pool; descriptors and signatures too). */
export function classRefs(b: Buffer): ClassRefs {
  const pool = readPool(b)
  const classes = new Set<string>()
  const literal = new Set<number>()
  for (let i = 1; i < pool.tags.length; i++) if (pool.tags[i] === STRING) literal.add(pool.ref(i))
  const strings: string[] = []
  const calls = new Set<string>()
  for (let i = 1; i < pool.tags.length; i++) {
    const tag = pool.tags[i]
    if (tag === METHODREF || tag === INTERFACE_METHODREF) {
      const owner = pool.ref(i)
      const nat = b.readUInt16BE(pool.at[i]! + 2)
      if (pool.tags[owner] === CLASS && pool.tags[nat] === NAME_AND_TYPE) calls.add(`${pool.utf8(pool.ref(owner))}.${pool.utf8(pool.ref(nat))}`)
    } else if (tag === CLASS) {
      const n = pool.utf8(pool.ref(i))
      if (!n.startsWith('[')) classes.add(n)
      else for (const m of n.matchAll(DESCRIPTOR_CLASS)) classes.add(m[1]!)
    } else if (tag === UTF8) {
      const s = pool.utf8(i)
      if (literal.has(i)) strings.push(s)
      // Field and method descriptors, generic signatures, annotation types: every `Lpkg/Name;`.
      else if (s.includes('/')) for (const m of s.matchAll(DESCRIPTOR_CLASS)) classes.add(m[1]!)
    }
  }
  const thisClass = u2(b, pool.end + 2)
  if (pool.tags[thisClass] !== CLASS) throw new ClassFileError(`this_class ${thisClass} is not a class entry`)
  const name = pool.utf8(pool.ref(thisClass))
  classes.delete(name)
  return { name, classes, strings, calls }
}

/** A module declaration (module-info.class). */
export interface ModuleInfo {
  name: string
  requires: string[]
  /** Packages it exports to everyone (qualified exports, `to` named modules, left out), dotted form. */
  exports: string[]
  /** Every package of the module (ModulePackages), dotted form; the exports when the attribute is absent. */
  packages: string[]
}

/** Skips fields or methods (u2 count, then each with its attributes). */
function skipMembers(b: Buffer, o: number): number {
  const n = u2(b, o)
  o += 2
  for (let i = 0; i < n; i++) {
    o += 6
    o = skipAttributes(b, o)
  }
  return o
}

function skipAttributes(b: Buffer, o: number): number {
  const n = u2(b, o)
  o += 2
  for (let i = 0; i < n; i++) o += 6 + u4(b, o + 2)
  if (o > b.length) throw new ClassFileError('truncated in attributes')
  return o
}

/** Reads a module-info.class: its name, requires, exports and packages. */
export function readModuleInfo(b: Buffer): ModuleInfo {
  const pool = readPool(b)
  const dotted = (i: number): string => pool.utf8(i).replace(/\//g, '.')
  let o = pool.end + 6 // access_flags, this_class, super_class
  o += 2 + 2 * u2(b, o) // interfaces
  o = skipMembers(b, o) // fields
  o = skipMembers(b, o) // methods
  const count = u2(b, o)
  o += 2
  let info: Omit<ModuleInfo, 'packages'> | undefined
  let packages: string[] | undefined
  for (let i = 0; i < count; i++) {
    const attr = pool.utf8(u2(b, o))
    const len = u4(b, o + 2)
    const start = o + 6
    if (start + len > b.length) throw new ClassFileError(`truncated in attribute ${attr}`)
    if (attr === 'Module') info = moduleAttribute(b, start, pool, dotted)
    if (attr === 'ModulePackages') {
      const n = u2(b, start)
      if (2 + 2 * n > len) throw new ClassFileError('ModulePackages is longer than its attribute')
      packages = []
      for (let k = 0; k < n; k++) {
        const p = u2(b, start + 2 + 2 * k)
        if (pool.tags[p] !== PACKAGE) throw new ClassFileError(`ModulePackages names entry ${p}, not a package`)
        packages.push(dotted(pool.ref(p)))
      }
    }
    o = start + len
  }
  if (!info) throw new ClassFileError('no Module attribute: not a module-info.class')
  return { ...info, packages: packages ?? info.exports }
}

function moduleAttribute(b: Buffer, o: number, pool: Pool, dotted: (i: number) => string): Omit<ModuleInfo, 'packages'> {
  const nameIndex = u2(b, o)
  if (pool.tags[nameIndex] !== MODULE) throw new ClassFileError('the Module attribute does not name a module entry')
  const name = dotted(pool.ref(nameIndex))
  o += 6 // name, flags, version
  const requires: string[] = []
  const nReq = u2(b, o)
  o += 2
  for (let i = 0; i < nReq; i++, o += 6) {
    const m = u2(b, o)
    if (pool.tags[m] !== MODULE) throw new ClassFileError(`requires names entry ${m}, not a module`)
    requires.push(dotted(pool.ref(m)))
  }
  const exports: string[] = []
  const nExp = u2(b, o)
  o += 2
  for (let i = 0; i < nExp; i++) {
    const p = u2(b, o)
    if (pool.tags[p] !== PACKAGE) throw new ClassFileError(`exports names entry ${p}, not a package`)
    const to = u2(b, o + 4)
    if (to === 0) exports.push(dotted(pool.ref(p)))
    o += 6 + 2 * to
  }
  return { name, requires, exports }
}
