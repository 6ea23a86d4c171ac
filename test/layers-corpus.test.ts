/**
 * Every container image in the corpus analyzes: index, metrics and facts, through openImage, with
 * the invariants that must hold for any image (absolute paths, stored = visible + dead, one
 * summary per layer, sizes that add up).
 */
import { describe, expect, it } from 'vitest'
import { openImage } from '../src/image/open.js'
import { buildIndex } from '../src/layers/build-index.js'
import { collectFacts } from '../src/layers/facts.js'
import { computeMetrics } from '../src/layers/metrics.js'
import { SHARED } from './helpers/shared.js'

const C = `${SHARED}/corpus`
const ggcr = `${C}/google__go-containerregistry/pkg/v1`

const IMAGES = [
  `docker-archive:${C}/wagoodman__dive/.data/test-docker-image.tar`,
  `docker-archive:${C}/wagoodman__dive/.data/test-kaniko-image.tar`,
  `oci-archive:${C}/wagoodman__dive/.data/test-oci-uncompressed-image.tar`,
  `oci-archive:${C}/wagoodman__dive/.data/test-oci-gzip-image.tar`,
  `oci-archive:${C}/wagoodman__dive/.data/test-oci-zstd-image.tar`,
  `oci-archive:${C}/wagoodman__dive/.data/test-oci-estargz-image.tar`,
  `docker-archive:${ggcr}/tarball/testdata/test_image_1.tar`,
  `docker-archive:${ggcr}/tarball/testdata/test_image_2.tar`,
  `docker-archive:${ggcr}/tarball/testdata/test_bundle.tar:@0`,
  `docker-archive:${ggcr}/tarball/testdata/test_bundle.tar:@1`,
  `docker-archive:${ggcr}/tarball/testdata/test_link.tar:@0`,
  `docker-archive:${ggcr}/tarball/testdata/test_link.tar:@1`,
  `docker-archive:${ggcr}/tarball/testdata/hello-world-v25.tar`,
  `docker-archive:${ggcr}/mutate/testdata/source_image.tar`,
  `docker-archive:${ggcr}/mutate/testdata/source_image_with_empty_layer_history.tar`,
  `docker-archive:${ggcr}/mutate/testdata/overwritten_file.tar`,
  `docker-archive:${ggcr}/mutate/testdata/whiteout_image.tar`,
  `docker-archive:${ggcr}/mutate/testdata/whiteout_dir.tar`,
  `oci:${ggcr}/layout/testdata/test_index:@0`,
  `oci:${ggcr}/layout/testdata/test_index:@3`,
  `oci:${ggcr}/layout/testdata/test_index_one_image`,
  `docker-archive:${C}/containers__image/docker/archive/fixtures/almostempty.tar`,
  `docker-archive:${C}/containers__skopeo/systemtest/testdata/docker-two-images.tar.xz:@0`,
  `docker-archive:${C}/containers__skopeo/systemtest/testdata/docker-two-images.tar.xz:@1`,
  `docker-archive:${C}/goodwithtech__dockle/pkg/deckoder/extractor/docker/testdata/symbolic.tar`,
  `docker-archive:${C}/goodwithtech__dockle/pkg/scanner/testdata/scratch.tar`,
  `docker-archive:${C}/anchore__syft/syft/format/text/testdata/snapshot/stereoscope-fixture-image-simple.golden`,
  `docker-archive:${C}/anchore__syft/syft/format/internal/testutil/testdata/snapshot/stereoscope-fixture-image-simple.golden`,
  `docker-archive:${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`,
  `docker-archive:${C}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-311.tar.gz`,
  `oci:${C}/aquasecurity__trivy/pkg/fanal/test/testdata/test.oci`,
  `oci:${C}/aquasecurity__trivy/pkg/fanal/test/testdata/test_image_tag.oci`,
  `oci-archive:${C}/anchore__stereoscope/pkg/image/oci/testdata/valid-oci.tar`,
  `oci:${C}/anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir`,
  `oci:${C}/anchore__stereoscope/pkg/image/oci/testdata/valid_oci_dir`,
  `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world.tar`,
  `oci-archive:${C}/oras-project__oras-go/content/oci/testdata/hello-world-prefixed-path.tar`,
  `oci:${C}/buildpacks__imgutil/layout/testdata/layout/busybox`,
  `oci:${C}/buildpacks__imgutil/layout/testdata/layout/my-previous-image`,
  `oci:${C}/chainguard-dev__apko/internal/cli/testdata/base_image`,
  `oci:${C}/chainguard-dev__apko/internal/cli/testdata/top_image`,
  ...[0, 1, 2, 3, 4, 5, 18].map((i) => `oci:${C}/regclient__regclient/testdata/testrepo:@${i}`),
]

describe('every image in the corpus analyzes', () => {
  it.each(IMAGES)('%s', async (ref) => {
    const img = await openImage(ref)
    try {
      const idx = await buildIndex(img)
      const metrics = computeMetrics(idx)
      const facts = await collectFacts(idx)
      expect(idx.layers.length).toBe(img.layers.length)
      expect(idx.layers.map((l) => l.index)).toEqual(img.layers.map((_, i) => i))
      const entries = [...idx.entries()]
      expect(entries.length).toBeGreaterThan(0)
      for (const e of entries) expect(e.path).toMatch(/^\/[^/]/)
      const stored = idx.layers.reduce((s, l) => s + l.fileBytes, 0)
      expect(stored - metrics.deadBytes.total).toBe(metrics.totals.bytes)
      expect(metrics.dive.sizeBytes).toBe(idx.layers.reduce((s, l) => s + l.size, 0))
      expect(metrics.dive.efficiency).toBeGreaterThan(0)
      expect(metrics.dive.efficiency).toBeLessThanOrEqual(1)
      expect(Array.isArray(facts.shells)).toBe(true)
      for (const l of idx.layers) expect(l.tarBytes).toBeGreaterThanOrEqual(l.size)
    } finally {
      await img.close()
    }
  })
})
