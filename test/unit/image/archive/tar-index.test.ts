import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SlimError } from '../../../../src/core/errors.js'
import { normalizeEntryName, TarIndex, type TarEntryType } from '../../../../src/image/archive/tar-index.js'
import { SHARED } from '../../../helpers/shared.js'

const CORPUS = `${SHARED}/corpus`
const GO = `${CORPUS}/vbatts__tar-split/archive/tar/testdata`
const NODE_TAR = `${CORPUS}/isaacs__node-tar/test/fixtures`
const TAR_STREAM = `${CORPUS}/mafintosh__tar-stream/test/fixtures`

const work = mkdtempSync(join(tmpdir(), 'slim-tar-index-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface OracleEntry {
  name: string
  size: number
  offset: number
  type: TarEntryType
  linkname: string
}

/**
 * Python's tarfile as the oracle: name, size, data offset and type of every member (last one
 * wins), for all files in one python run (spawning python per file is slow on a busy machine).
 */
function pythonIndexes(paths: string[]): Map<string, Map<string, OracleEntry>> {
  const out = execFileSync(
    'python3',
    [
      '-c',
      `import json,sys,tarfile
kind={tarfile.REGTYPE:'file',tarfile.AREGTYPE:'file',tarfile.CONTTYPE:'file',tarfile.LNKTYPE:'hardlink',tarfile.SYMTYPE:'symlink',tarfile.DIRTYPE:'dir'}
res={}
for p in sys.argv[1:]:
    t=tarfile.open(p, 'r:')
    res[p]=[[m.name,m.size,m.offset_data,kind.get(m.type,'other'),m.linkname] for m in t.getmembers()]
print(json.dumps(res))`,
      ...paths,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  ).toString()
  const all = new Map<string, Map<string, OracleEntry>>()
  for (const [path, members] of Object.entries(JSON.parse(out) as Record<string, [string, number, number, TarEntryType, string][]>)) {
    const map = new Map<string, OracleEntry>()
    for (const [name, size, offset, type, linkname] of members) {
      const n = normalizeEntryName(name)
      if (n) map.set(n, { name: n, size, offset, type, linkname })
    }
    all.set(path, map)
  }
  return all
}

function failure(fn: () => Promise<unknown>): Promise<SlimError> {
  return fn().then(
    () => {
      throw new Error('expected a SlimError')
    },
    (e) => {
      if (e instanceof SlimError) return e
      throw e
    },
  )
}

const ORACLE_FIXTURES = [
    `${GO}/v7.tar`,
    `${GO}/ustar.tar`,
    `${GO}/gnu.tar`,
    `${GO}/pax.tar`,
    `${GO}/star.tar`,
    `${GO}/pax-records.tar`,
    `${GO}/gnu-utf8.tar`,
    `${GO}/trailing-slash.tar`,
    `${GO}/hardlink.tar`,
    `${GO}/file-and-dir.tar`,
    `${NODE_TAR}/tars/long-paths.tar`,
    `${NODE_TAR}/tars/long-pax.tar`,
    `${NODE_TAR}/tars/next-file-has-long.tar`,
    `${NODE_TAR}/tars/utf8.tar`,
    `${NODE_TAR}/long-linkname.tar`,
    `${NODE_TAR}/excessively-deep.tar`,
    `${TAR_STREAM}/gnu-long-path.tar`,
    `${TAR_STREAM}/name-is-100.tar`,
    `${TAR_STREAM}/base-256-size.tar`,
    `${TAR_STREAM}/unicode.tar`,
    `${TAR_STREAM}/types.tar`,
]

describe('TarIndex agrees with Python tarfile on real header formats', () => {
  let oracles: Map<string, Map<string, OracleEntry>>
  beforeAll(() => {
    oracles = pythonIndexes(ORACLE_FIXTURES)
  })

  it.each(ORACLE_FIXTURES)('%s', async (path) => {
    const ours = await TarIndex.open(path, path)
    const oracle = oracles.get(path) as Map<string, OracleEntry>
    expect([...ours.entries.keys()].sort()).toEqual([...oracle.keys()].sort())
    for (const [name, want] of oracle) {
      const got = ours.entries.get(name)
      expect(got, name).toBeDefined()
      expect({ size: got?.size, offset: got?.offset, type: got?.type, linkname: got?.linkname ?? '' }, name).toEqual({
        size: want.size,
        offset: want.offset,
        type: want.type,
        linkname: want.linkname,
      })
    }
  })

  // Where Python and Go disagree, these fixtures are Go's (tar-split forks archive/tar), and slim
  // follows Go's reader, which is what Docker and containerd use: the LAST of several extended
  // headers wins, and a global PAX path does not rename the entries after it.
  it('follows Go archive/tar on repeated extended headers and global PAX records', async () => {
    const gnu = await TarIndex.open(`${GO}/gnu-multi-hdrs.tar`, 'gnu-multi-hdrs.tar')
    expect([...gnu.entries.values()].map((e) => [e.name, e.linkname])).toEqual([['GNU2/GNU2/long-path-name', 'GNU4/GNU4/long-linkpath-name']])
    const pax = await TarIndex.open(`${GO}/pax-multi-hdrs.tar`, 'pax-multi-hdrs.tar')
    expect([...pax.entries.values()].map((e) => [e.name, e.linkname])).toEqual([['bar', 'PAX4/PAX4/long-linkpath-name']])
    const global = await TarIndex.open(`${GO}/pax-global-records.tar`, 'pax-global-records.tar')
    expect([...global.entries.keys()]).toEqual(['file1', 'file2', 'file3', 'file4'])
  })

  it('streams an entry by its byte range', async () => {
    const index = await TarIndex.open(`${GO}/gnu.tar`, 'gnu.tar')
    const small = await index.readFile('small.txt', 'file', 1024)
    expect(small.toString()).toBe(readFileSync(`${GO}/small.txt`, 'utf8'))
    const small2 = await index.readFile('./small2.txt', 'file', 1024)
    expect(small2.toString()).toBe(readFileSync(`${GO}/small2.txt`, 'utf8'))
  })
})

describe('TarIndex on broken or hostile input', () => {
  it('rejects a bad header checksum as not a tar', async () => {
    const err = await failure(() => TarIndex.open(`${NODE_TAR}/tars/bad-cksum.tar`, 'bad-cksum.tar'))
    expect(err.kind).toBe('format')
    expect(err.message).toMatch(/bad-cksum.tar is not a valid tar archive \(bad header checksum at offset \d+\)/)
  })

  it('rejects a file that is not a tar at all', async () => {
    const err = await failure(() => TarIndex.open(`${CORPUS}/containers__image/pkg/compression/fixtures/Hello.uncompressed`, 'hello'))
    expect(err.message).toMatch(/smaller than one tar header/)
    const gz = await failure(() => TarIndex.open(`${TAR_STREAM}/invalid.tgz`, 'invalid.tgz'))
    expect(gz.message).toMatch(/invalid.tgz is not a valid tar archive/)
  })

  it('reports archives that claim more bytes than they have (writer-big: 16 GiB in 512 bytes)', async () => {
    for (const f of ['writer-big.tar', 'writer-big-long.tar']) {
      const err = await failure(() => TarIndex.open(`${GO}/${f}`, f))
      expect(err.kind).toBe('integrity')
      expect(err.message).toMatch(/truncated/)
    }
    const cut = await failure(() => TarIndex.open(`${TAR_STREAM}/incomplete.tar`, 'incomplete.tar'))
    expect(cut.message).toMatch(/truncated/)
  })

  it('rejects a negative size', async () => {
    const err = await failure(() => TarIndex.open(`${GO}/neg-size.tar`, 'neg-size.tar'))
    expect(err.kind).toBe('format')
  })

  it('follows the legitimate <id>/layer.tar -> ../<id2>/layer.tar symlinks of docker save', async () => {
    const index = await TarIndex.open(`${CORPUS}/google__go-containerregistry/pkg/v1/tarball/testdata/test_link.tar`, 'test_link.tar')
    const link = 'b159278ac0c8813245b6c3b22cbbe7abefe3b2ec3fac6c7e87138811e1ef2a88/layer.tar'
    expect(index.get(link)?.type).toBe('symlink')
    const target = index.resolveFile(link, 'layer')
    expect(target.name).toBe('6e77476643c3155b1e9ae07dd5a4c8288bdb6590c131c222b7a3f277dec1e266/layer.tar')
    expect(target.size).toBe(10240)
  })

  it('refuses names and links that escape the archive, and link loops', async () => {
    const path = join(work, 'evil.tar')
    execFileSync('python3', [
      '-c',
      `import io,sys,tarfile
t=tarfile.open(sys.argv[1],'w')
def add(name, data=b'', link=None, kind=tarfile.REGTYPE):
    i=tarfile.TarInfo(name); i.type=kind
    if link is not None: i.linkname=link
    i.size=len(data) if kind==tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind==tarfile.REGTYPE else None)
add('../outside.txt', b'secret')
add('/abs.txt', b'abs')
add('ok/file.txt', b'fine')
add('a/layer.tar', link='../../etc/passwd', kind=tarfile.SYMTYPE)
add('b/layer.tar', link='/etc/passwd', kind=tarfile.SYMTYPE)
add('c/layer.tar', link='../ok/file.txt', kind=tarfile.SYMTYPE)
add('d/hard', link='../etc/shadow', kind=tarfile.LNKTYPE)
add('loop1', link='loop2', kind=tarfile.SYMTYPE)
add('loop2', link='loop1', kind=tarfile.SYMTYPE)
t.close()`,
      path,
    ])
    const index = await TarIndex.open(path, 'evil.tar')
    expect(() => index.resolveFile('../outside.txt', 'layer')).toThrow(/points outside the archive/)
    expect(() => index.resolveFile('/abs.txt', 'layer')).toThrow(/points outside the archive/)
    expect(() => index.resolveFile('a/layer.tar', 'layer')).toThrow(/links outside the archive \(a\/layer.tar -> ..\/..\/etc\/passwd\)/)
    expect(() => index.resolveFile('b/layer.tar', 'layer')).toThrow(/links outside the archive/)
    expect(() => index.resolveFile('d/hard', 'layer')).toThrow(/links outside the archive/)
    expect(() => index.resolveFile('loop1', 'layer')).toThrow(/symlink loop/)
    expect(index.resolveFile('c/layer.tar', 'layer').name).toBe('ok/file.txt')
    expect(() => index.resolveFile('missing.tar', 'layer 3')).toThrow(/layer 3 "missing.tar" is missing from the archive/)
    // The hostile names are indexed as written, so no normal lookup can ever reach them.
    expect(index.entries.has('outside.txt')).toBe(false)
  })

  it('refuses to read a directory or an oversized entry as a document', async () => {
    const path = join(work, 'dir.tar')
    writeFileSync(join(work, 'big.bin'), Buffer.alloc(5000))
    execFileSync('tar', ['-C', work, '-cf', path, 'big.bin'])
    const index = await TarIndex.open(path, 'dir.tar')
    await expect(index.readFile('big.bin', 'config', 1000)).rejects.toThrow(/config "big.bin" is 5000 bytes, above the 1000-byte limit/)
    const withDir = await TarIndex.open(`${GO}/file-and-dir.tar`, 'fd.tar')
    const dirName = [...withDir.entries.values()].find((e) => e.type === 'dir')?.name as string
    expect(() => withDir.resolveFile(dirName, 'config')).toThrow(/is a directory, not a file/)
  })
})
