/**
 * Every image archive and layout of the third-party corpus (/work/shared/corpus/README.md sections
 * 2.1-2.3), each with the outcome slim must produce: it opens with the right platform, layer count,
 * config and command, and every layer reads to the end with its digest verified; or it fails with
 * a one-line SlimError of the right kind whose message names the problem. Config digests marked
 * "skopeo" were cross-checked with `skopeo inspect --raw` (an independent reader).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ErrorKind } from '../src/core/errors.js'
import { SlimError } from '../src/core/errors.js'
import { openImage } from '../src/image/open.js'
import { formatPlatform, parsePlatform } from '../src/image/platform.js'
import type { Image } from '../src/image/types.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const GGCR = `${C}/google__go-containerregistry/pkg/v1`
const CI_LAYOUT = `${C}/containers__image/oci/layout/fixtures`
const STEREO = `${C}/anchore__stereoscope/pkg/image/oci/testdata`
const TRIVY = `${C}/aquasecurity__trivy/pkg/fanal/test/testdata`
const IMGUTIL = `${C}/buildpacks__imgutil/layout/testdata/layout`
const APKO = `${C}/chainguard-dev__apko/internal/cli/testdata`
const REGCLIENT = `${C}/regclient__regclient/testdata`

/** The cache dir: gzip/xz-wrapped archives are unpacked into its tmp/ and must be gone after close. */
const cacheDir = mkdtempSync(join(tmpdir(), 'slim-corpus-cache-'))
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

interface Opens {
  platform: string
  layers: number
  config?: string
  cmd?: string[] | null
  entrypoint?: string[] | null
  /** How reading every layer's uncompressed stream ends: 'ok' (all verified) or the error expected. */
  read?: 'ok' | { kind: ErrorKind; message: RegExp }
  warning?: RegExp
}

interface Fails {
  kind: ErrorKind
  message: RegExp
}

interface Row {
  ref: string
  platform?: string
  why: string
  opens?: Opens
  fails?: Fails
}

const ok = (platform: string, layers: number, extra: Partial<Opens> = {}): Opens => ({ platform, layers, read: 'ok', ...extra })
const fails = (kind: ErrorKind, message: RegExp): Fails => ({ kind, message })
const sha = (hex: string): string => `sha256:${hex}`

const ROWS: Row[] = [
  // ---- 2.1 docker-archive tarballs ----
  { ref: `docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`, why: 'legacy docker save, 14 layers', opens: ok('linux/amd64', 14, { cmd: ['sh'], config: sha('75ae28b8ebf89b203319069ddcbecdf5c3838503bbebc0d0d85e4b8589c5de3a') /* skopeo */ }) },
  { ref: `docker-archive:${C}/wagoodman__dive/.data/test-kaniko-image.tar`, why: 'kaniko: gzip <sha>.tar.gz layers, config named sha256:<hex>', opens: ok('linux/amd64', 14, { cmd: ['sh'], config: sha('ae16a51058a758c7963b2f9b23d1acfa201ce9cbefc8cb93845f8cd934fb144d') /* skopeo */ }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_image_1.tar`, why: 'bazel-built, 1 layer', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') /* skopeo */ }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_image_2.tar`, why: 'bazel-built, 1 layer', opens: ok('linux/amd64', 1, { config: sha('930705ce23e3b6ed4c08746b6fe880089c864fbaf62482702ae3fdd66b8c7fe9') }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_load_manifest.tar`, why: 'same as test_image_1', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_bundle.tar`, why: '2 images and no REF', fails: fails('usage', /holds 2 images; choose one by appending :TAG or :@N .*@0 \(test_image_2\), @1 \(test_image_1\)/) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_bundle.tar:test_image_1`, why: 'REF by normalised RepoTag', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_bundle.tar:docker.io/library/test_image_2:latest`, why: 'REF fully qualified', opens: ok('linux/amd64', 1, { config: sha('930705ce23e3b6ed4c08746b6fe880089c864fbaf62482702ae3fdd66b8c7fe9') }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_bundle.tar:@1`, why: 'REF by index', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_bundle.tar:nosuch:1`, why: 'unknown REF', fails: fails('not-found', /no image tagged "nosuch:1"; the archive has: @0 \(test_image_2\), @1 \(test_image_1\)/) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/test_link.tar:bazel/v1/tarball:test_image_3`, why: 'layer.tar is a tar symlink to another image\'s layer', opens: ok('linux/amd64', 2, { config: sha('d4c9adacde69c3d92446e0484cea29493e9fd573cf0c8febfc700d80c46697a4') /* skopeo */ }) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/no_manifest.tar`, why: 'pre-Docker-1.10 save', fails: fails('unsupported', /pre-Docker-1\.10 save .*re-save the image/) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/null_manifest.tar`, why: 'manifest.json is null', fails: fails('format', /manifest\.json is null; the archive holds no image/) },
  { ref: `docker-archive:${GGCR}/mutate/testdata/source_image.tar`, why: '1 layer', opens: ok('linux/amd64', 1) },
  { ref: `docker-archive:${GGCR}/mutate/testdata/source_image_with_empty_layer_history.tar`, why: '2 history entries for 1 layer; config is the last entry', opens: ok('linux/amd64', 1, { config: sha('05b5ec1290589606ce19fabb1fb331f004acd9f618b9b4e813721be1a03a0712') }) },
  { ref: `docker-archive:${GGCR}/mutate/testdata/overwritten_file.tar`, why: 'file replaced by a symlink; an empty layer', opens: ok('linux/amd64', 3) },
  { ref: `docker-archive:${GGCR}/mutate/testdata/whiteout_image.tar`, why: 'whiteout layer', opens: ok('linux/amd64', 3) },
  { ref: `docker-archive:${GGCR}/mutate/testdata/whiteout_dir.tar`, why: 'kaniko style, entrypoint []', opens: ok('linux/amd64', 4, { entrypoint: [] }) },
  { ref: `docker-archive:${C}/containers__image/docker/archive/fixtures/almostempty.tar`, why: '1 layer with one empty file', opens: ok('linux/amd64', 1) },
  { ref: `docker-archive:${C}/containers__skopeo/systemtest/testdata/docker-two-images.tar.xz`, why: 'xz-wrapped, 2 images, no REF', fails: fails('usage', /holds 2 images.*@0 \(example\.com\/empty:latest\), @1 \(example\.com\/empty\/but:different\)/) },
  { ref: `docker-archive:${C}/containers__skopeo/systemtest/testdata/docker-two-images.tar.xz:example.com/empty:latest`, why: 'xz-wrapped, first image', opens: ok('linux/amd64', 1, { config: sha('ec9293436c2e66da44edb9efb8d41f6b13baf62283ebe846468bc992d76d7951') }) },
  { ref: `docker-archive:${C}/containers__skopeo/systemtest/testdata/docker-two-images.tar.xz:example.com/empty/but:different`, why: 'xz-wrapped, layer symlinked to the first image', opens: ok('linux/amd64', 1, { config: sha('5a7ef13e1893f2f91d29b3c2b9224e771a57c48ff6fe8d2aee91f3f91062fa2a') /* skopeo */ }) },
  { ref: `docker-archive:${C}/goodwithtech__dockle/pkg/deckoder/extractor/docker/testdata/symbolic.tar`, why: '9 layers, duplicate layers as symlinks', opens: ok('linux/amd64', 9, { cmd: ['sh'] }) },
  { ref: `docker-archive:${C}/goodwithtech__dockle/pkg/scanner/testdata/scratch.tar`, why: 'FROM scratch, 1 layer', opens: ok('linux/amd64', 1) },
  { ref: `docker-archive:${C}/anchore__syft/syft/format/text/testdata/snapshot/stereoscope-fixture-image-simple.golden`, why: 'older docker save named .golden', opens: ok('linux/amd64', 2) },
  { ref: `docker-archive:${TRIVY}/alpine-310.tar.gz`, why: 'gzip-wrapped docker save of alpine:3.10', opens: ok('linux/amd64', 1, { cmd: ['/bin/sh'], config: sha('af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e') }) },
  { ref: `docker-archive:${TRIVY}/alpine-311.tar.gz`, why: 'gzip-wrapped docker save of alpine:3.11', opens: ok('linux/amd64', 1, { cmd: ['/bin/sh'] }) },

  // ---- 2.2 OCI archives, and Docker 25+ tars holding both layouts ----
  { ref: `oci-archive:${C}/wagoodman__dive/.data/test-oci-uncompressed-image.tar`, why: 'arm64, uncompressed tar layer', opens: ok('linux/arm64', 1, { config: sha('3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959') }) },
  { ref: `oci-archive:${C}/wagoodman__dive/.data/test-oci-gzip-image.tar`, why: 'gzip layer', opens: ok('linux/arm64', 1, { config: sha('3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959') }) },
  { ref: `oci-archive:${C}/wagoodman__dive/.data/test-oci-zstd-image.tar`, why: 'zstd layer', opens: ok('linux/arm64', 1, { config: sha('3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959') /* skopeo */ }) },
  { ref: `oci-archive:${C}/wagoodman__dive/.data/test-oci-estargz-image.tar`, why: 'eStargz layer (gzip with a TOC)', opens: ok('linux/arm64', 1) },
  { ref: `oci-archive:${C}/wagoodman__dive/.data/test-oci-gzip-image.tar`, platform: 'linux/amd64', why: 'single-platform image, other platform requested', fails: fails('not-found', /has no image for linux\/amd64; it is a single-platform image for linux\/arm64 \(drop --platform or use --platform linux\/arm64\)/) },
  { ref: `oci-archive:${STEREO}/valid-oci.tar`, why: 'one image, ref name sample:latest', opens: ok('linux/amd64', 1) },
  { ref: `oci-archive:${STEREO}/valid-oci.tar:sample:latest`, why: 'REF with a colon', opens: ok('linux/amd64', 1) },
  { ref: `docker-archive:${GGCR}/tarball/testdata/hello-world-v25.tar`, why: 'Docker 25+ save, read through manifest.json', opens: ok('linux/arm64', 1, { cmd: ['/hello'], config: sha('ee301c921b8aadc002973b2e0c3da17d701dcd994b606769a7e6eaa100b81d44') }) },
  { ref: `oci-archive:${GGCR}/tarball/testdata/hello-world-v25.tar`, why: 'its index.json has manifests: null', fails: fails('format', /index\.json lists no manifests, but the archive has a docker manifest\.json .*open it as docker-archive:/) },
  { ref: `docker-archive:${C}/anchore__syft/syft/format/internal/testutil/testdata/snapshot/stereoscope-fixture-image-simple.golden`, why: 'Docker 25+ save as docker-archive', opens: ok('linux/amd64', 2, { config: sha('35a6658e24fab92eae9ec6fc252dec58986c4c007891758d4d37c7e43fbbe0c5') }) },
  { ref: `oci-archive:${C}/anchore__syft/syft/format/internal/testutil/testdata/snapshot/stereoscope-fixture-image-simple.golden`, why: 'the same tar as oci-archive', opens: ok('linux/amd64', 2, { config: sha('35a6658e24fab92eae9ec6fc252dec58986c4c007891758d4d37c7e43fbbe0c5') }) },
  { ref: `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world.tar`, why: 'sparse 11-platform list, amd64 present', opens: ok('linux/amd64', 1, { cmd: ['/hello'], config: sha('feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412') }) },
  { ref: `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world.tar`, platform: 'linux/arm64', why: 'listed but absent platform', fails: fails('not-found', /manifest sha256:[0-9a-f]{64} is missing \(blobs\/sha256\/[0-9a-f]{64}\); the layout is incomplete/) },
  { ref: `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world.tar`, platform: 'linux/riscv32', why: 'platform not in the list', fails: fails('not-found', /has no image for linux\/riscv32; it has: linux\/amd64, linux\/arm\/v5, linux\/arm\/v7, linux\/arm64\/v8, linux\/386, linux\/mips64le, linux\/ppc64le, linux\/riscv64, linux\/s390x, windows\/amd64/) },
  { ref: `docker-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world.tar`, why: 'its docker manifest.json', opens: ok('linux/amd64', 1, { cmd: ['/hello'] }) },
  { ref: `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world-prefixed-path.tar`, why: './-prefixed entries', opens: ok('linux/amd64', 1, { cmd: ['/hello'], config: sha('feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412') }) },

  // ---- 2.3 OCI image-layout directories ----
  { ref: `oci:${GGCR}/layout/testdata/test_index`, why: '4 named entries, no REF', fails: fails('usage', /holds 4 images; choose one .*: 1, 2, 3, 4$/) },
  { ref: `oci:${GGCR}/layout/testdata/test_index:1`, why: 'descriptor says OCI, blob is Docker schema2', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') }) },
  { ref: `oci:${GGCR}/layout/testdata/test_index:2`, why: 'descriptor media type vnd.oci.descriptor.v1+json', opens: ok('linux/amd64', 1, { config: sha('930705ce23e3b6ed4c08746b6fe880089c864fbaf62482702ae3fdd66b8c7fe9') }) },
  { ref: `oci:${GGCR}/layout/testdata/test_index:3`, why: 'nested OCI index', opens: ok('linux/amd64', 1, { config: sha('6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e') /* skopeo */ }) },
  { ref: `oci:${GGCR}/layout/testdata/test_index:4`, why: 'nested Docker manifest list', opens: ok('linux/amd64', 1) },
  { ref: `oci:${GGCR}/layout/testdata/test_gc_index:4`, why: 'gc fixture, unreferenced blob ignored', opens: ok('linux/amd64', 1) },
  { ref: `oci:${GGCR}/layout/testdata/test_index_one_image`, why: 'manifest without mediaType field', opens: ok('linux/amd64', 1) },
  { ref: `oci:${GGCR}/layout/testdata/test_index_media_type`, why: 'Helm chart artifact', fails: fails('unsupported', /is not a container image but an artifact of type application\/vnd\.cncf\.helm\.config\.v1\+json/) },
  { ref: `oci:${GGCR}/layout/testdata/test_gc_image_unknown_mediatype`, why: 'unknown media type, blob absent', fails: fails('not-found', /manifest sha256:[0-9a-f]{64} is missing/) },
  { ref: `oci:${REGCLIENT}/testrepo`, why: '26 entries, no REF', fails: fails('usage', /holds 26 images; choose one .*b1, b2, b3, v1, v2, v3/) },
  { ref: `oci:${REGCLIENT}/testrepo:v3`, why: 'multi-platform index, 5 layers', opens: ok('linux/amd64', 5, { cmd: ['sh'], config: sha('2097cbe98aab004aa60148c1b49515a86cd1ff514310dcf8654313259aad0b12') }) },
  { ref: `oci:${REGCLIENT}/testrepo:b1`, platform: 'linux/arm/v7', why: 'arm variant selection', opens: ok('linux/arm/v7', 1, { config: sha('187f89fb0852035419fe56ce61745d31d2380ef08a05e36618db6954a472cd28') }) },
  { ref: `oci:${REGCLIENT}/testrepo:b1`, platform: 'linux/arm64/v8', why: 'arm64 variant default', opens: ok('linux/arm64', 1, { config: sha('92351a10d8aebc6e1b8b840d84070bd11ca3bafbc0e1d36e1c9e65c886a274f3') }) },
  { ref: `oci:${REGCLIENT}/testrepo:b1`, platform: 'linux/ppc64le', why: 'no such platform', fails: fails('not-found', /has no image for linux\/ppc64le; it has: linux\/amd64, linux\/arm64, linux\/arm\/v7, linux\/arm\/v6 \(choose one with --platform\)/) },
  { ref: `oci:${REGCLIENT}/testrepo:a1`, why: 'SBOM referrer, vnd.oci.empty config', fails: fails('unsupported', /artifact of type application\/example\.sbom \(config application\/vnd\.oci\.empty\.v1\+json\)/) },
  { ref: `oci:${REGCLIENT}/testrepo:a-docker`, why: '"{}" config with non-layer blobs', fails: fails('unsupported', /artifact of type application\/vnd\.example\.build-type\+json/) },
  { ref: `oci:${REGCLIENT}/testrepo:ai`, why: 'artifact index', fails: fails('unsupported', /artifact index of type application\/example\.artifacts/) },
  { ref: `oci:${REGCLIENT}/testrepo:loop`, why: 'index chain loop -> child', fails: fails('unsupported', /artifact index of type application\/example\.loop/) },
  { ref: `oci:${REGCLIENT}/external:a3`, why: 'external referrers', fails: fails('unsupported', /artifact of type application\/example\.sbom/) },
  { ref: `oci:${CI_LAYOUT}/delete_image_multiple_images`, why: '7 refs, no REF', fails: fails('usage', /holds 7 images; .*latest, 3\.18\.3, 3, 3\.18, 3\.17\.5, 3\.16\.7, 1\.0\.0/) },
  { ref: `oci:${CI_LAYOUT}/delete_image_multiple_images:latest`, why: 'placeholder layers open but do not read', opens: ok('linux/amd64', 1, { cmd: ['/bin/sh'], read: { kind: 'format', message: /layer 0 \(sha256:[0-9a-f]{64}\) is neither compressed .* nor a tar archive/ } }) },
  { ref: `oci:${CI_LAYOUT}/delete_image_multiple_images:3.18.3`, platform: 'linux/386', why: 'multi-arch index with 386', opens: ok('linux/386', 1, { read: { kind: 'format', message: /is neither compressed/ } }) },
  { ref: `oci:${CI_LAYOUT}/delete_image_only_one_image`, why: 'config larger than its descriptor says', fails: fails('integrity', /config sha256:[0-9a-f]{64}: more than the expected 585 bytes/) },
  { ref: `oci:${CI_LAYOUT}/delete_image_two_identical_references:1.0.0`, why: 'two different images with the same ref name', fails: fails('format', /2 different images are named "1\.0\.0" in index\.json; the layout is ambiguous, pick one with .*:@N \(@0, @1\)/) },
  { ref: `oci:${CI_LAYOUT}/delete_image_two_identical_references:@0`, why: 'picked by index', opens: ok('linux/amd64', 1, { read: { kind: 'format', message: /is neither compressed/ } }) },
  { ref: `oci:${CI_LAYOUT}/delete_image_shared_blobs_dir`, why: 'blobs in shared_blobs/, not blobs/', fails: fails('not-found', /manifest sha256:[0-9a-f]{64} is missing/) },
  { ref: `oci:${CI_LAYOUT}/manifest`, why: 'index.json only', fails: fails('not-found', /is missing \(blobs\/sha256\//) },
  { ref: `oci:${CI_LAYOUT}/name_lookups`, why: '5 refs, no REF', fails: fails('usage', /holds 5 images; .*a, b, c, d, invalid-mime/) },
  { ref: `oci:${CI_LAYOUT}/name_lookups:b`, why: 'index.json only, blobs absent', fails: fails('not-found', /is missing/) },
  { ref: `oci:${CI_LAYOUT}/two_images_manifest`, why: 'index.json only (ppc64le + amd64)', fails: fails('not-found', /is missing/) },
  { ref: `oci:${STEREO}/multiplatform_oci_dir`, why: 'nested index, host platform', opens: ok('linux/amd64', 1) },
  { ref: `oci:${STEREO}/multiplatform_oci_dir`, platform: 'linux/arm64', why: 'nested index, arm64', opens: ok('linux/arm64', 1, { config: sha('3cd6022503cef24ee80dc156bf171c8d1d588c2ea1904bcd8ef2728c36341594') }) },
  { ref: `oci:${STEREO}/multiplatform_oci_dir`, platform: 'linux/s390x', why: 'nested index, absent platform', fails: fails('not-found', /has no image for linux\/s390x; it has: linux\/amd64, linux\/arm64/) },
  { ref: `oci:${STEREO}/valid_oci_dir`, why: 'one manifest listed twice', opens: ok('linux/amd64', 1) },
  { ref: `oci:${STEREO}/valid_oci_dir:1.0`, why: 'by the second ref', opens: ok('linux/amd64', 1) },
  { ref: `oci:${STEREO}/valid_manifest`, why: 'manifest blob is 0 bytes', fails: fails('integrity', /manifest: digest sha256:e3b0c442[0-9a-f]+ does not match the expected/) },
  { ref: `oci:${STEREO}/no_manifests`, why: 'index.json is a manifest', fails: fails('format', /index\.json is an image manifest, not an image index/) },
  { ref: `oci:${STEREO}/invalid_file`, why: 'index.json is 0 bytes', fails: fails('format', /index\.json is empty \(0 bytes\)/) },
  { ref: `oci:${TRIVY}/test.oci`, why: 'hello-world, no ref name', opens: ok('linux/amd64', 1, { cmd: ['/hello'] }) },
  { ref: `oci:${TRIVY}/test_image_tag.oci:0.0.1`, why: 'by ref name', opens: ok('linux/amd64', 1, { cmd: ['/hello'] }) },
  { ref: `oci:${TRIVY}/test_image_tag.oci:9.9.9`, why: 'unknown ref name', fails: fails('not-found', /no image named "9\.9\.9"; the layout has: 0\.0\.1/) },
  { ref: `oci:${TRIVY}/test_bad_index_json.oci`, why: 'index.json is "foobar"', fails: fails('format', /index\.json is not valid JSON/) },
  { ref: `oci:${TRIVY}/test_no_valid_manifests.oci`, why: 'index.json is {}', fails: fails('format', /index\.json lists no manifests \("manifests" is missing\)/) },
  { ref: `oci:${TRIVY}/test_invalid_oci_image.oci`, why: 'bad media type, digest absent', fails: fails('not-found', /is missing/) },
  { ref: `oci:${TRIVY}/test_index_json_dir.oci`, why: 'index.json is a directory', fails: fails('format', /index\.json is a directory, not a file/) },
  { ref: `oci:${IMGUTIL}/busybox`, why: 'real busybox, Docker schema2 in a layout', opens: ok('linux/amd64', 1, { cmd: ['sh'], config: sha('9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269') /* skopeo */ }) },
  { ref: `oci:${IMGUTIL}/busybox-sparse`, why: 'layer blob absent: opens, the layer fails', opens: ok('linux/amd64', 1, { cmd: ['sh'], read: { kind: 'not-found', message: /blob sha256:[0-9a-f]{64} is missing/ } }) },
  { ref: `oci:${IMGUTIL}/busybox-multi-platform`, why: 'index.json only', fails: fails('not-found', /is missing/) },
  { ref: `oci:${IMGUTIL}/index-with-docker-media-type`, why: 'index.json only, empty architecture', fails: fails('not-found', /is missing/) },
  { ref: `oci:${IMGUTIL}/my-previous-image`, why: 'config without os/architecture', opens: ok('?/?', 1, { warning: /config does not name its os and architecture/ }) },
  { ref: `oci:${IMGUTIL}/my-previous-sparse-image`, why: 'sparse', opens: ok('?/?', 1, { read: { kind: 'not-found', message: /is missing/ } }) },
  { ref: `oci:${APKO}/base_image`, why: 'unnamed per-platform entries: index.json is the index', opens: ok('linux/amd64', 1, { entrypoint: ['/bin/sh', '-l'] }) },
  { ref: `oci:${APKO}/base_image`, platform: 'linux/arm64', why: 'arm64', opens: ok('linux/arm64', 1) },
  { ref: `oci:${APKO}/top_image`, why: '2 layers', opens: ok('linux/amd64', 2, { config: sha('e83f38a3553148f2189193b4908cce3576907dacddc14617d0e8d22370c80cce') }) },
  { ref: `oci:${C}/containers__skopeo/integration/fixtures/uncompressed-image-s1`, why: 'skopeo dir: layout (schema 1)', fails: fails('unsupported', /skopeo dir: layout, which slim does not read; convert it with skopeo copy/) },
  { ref: `dir:${C}/containers__skopeo/integration/fixtures/uncompressed-image-s2`, why: 'the dir: transport', fails: fails('unsupported', /the dir: transport is not supported/) },
  { ref: `oci:${C}/containers__skopeo/integration/fixtures/uncompressed-image-s2`, why: 'skopeo dir: layout (schema 2)', fails: fails('unsupported', /skopeo dir: layout/) },
]

async function readAllLayers(img: Image): Promise<number> {
  let total = 0
  for (const layer of img.layers) {
    for await (const chunk of await layer.uncompressed()) total += (chunk as Buffer).length
  }
  return total
}

describe('corpus images (README sections 2.1-2.3)', () => {
  it.each(ROWS.map((r) => [`${r.ref.replace(`${C}/`, '')}${r.platform ? ` --platform ${r.platform}` : ''} (${r.why})`, r] as const))('%s', async (_name, row) => {
    const opts = { cacheDir, ...(row.platform ? { platform: parsePlatform(row.platform) } : {}) }
    if (row.fails) {
      const err = await openImage(row.ref, opts).then(
        (img) => img.close().then(() => undefined),
        (e: unknown) => e,
      )
      expect(err, 'should fail').toBeInstanceOf(SlimError)
      expect((err as SlimError).kind).toBe(row.fails.kind)
      expect((err as SlimError).message).toMatch(row.fails.message)
      expect((err as SlimError).message).not.toContain('\n')
      return
    }
    const want = row.opens as Opens
    const img = await openImage(row.ref, opts)
    try {
      expect(formatPlatform(img.platform)).toBe(want.platform)
      expect(img.layers).toHaveLength(want.layers)
      expect(img.config.rootfs.diff_ids).toHaveLength(want.layers)
      if (want.config) expect(img.configDigest).toBe(want.config)
      if (want.cmd !== undefined) expect(img.config.config?.Cmd ?? null).toEqual(want.cmd)
      if (want.entrypoint !== undefined) expect(img.config.config?.Entrypoint ?? null).toEqual(want.entrypoint)
      if (want.warning) expect(img.warnings.join('\n')).toMatch(want.warning)
      for (const l of img.layers) expect(l.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      if (want.read === 'ok') {
        expect(await readAllLayers(img)).toBeGreaterThan(0)
      } else if (want.read) {
        const err = await readAllLayers(img).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(SlimError)
        expect((err as SlimError).kind).toBe(want.read.kind)
        expect((err as SlimError).message).toMatch(want.read.message)
      }
    } finally {
      await img.close()
    }
  })

  it('leaves no temp file behind (wrapped archives are unpacked in the cache tmp dir and deleted on close)', () => {
    const tmp = join(cacheDir, 'tmp')
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([])
  })
})
