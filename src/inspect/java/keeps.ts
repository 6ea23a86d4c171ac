import type { KeepRule } from '../keep-rule.js'

/**
 * What Java inspection reads whole and the index pass can keep: a JVM home's `release` file, which
 * names the Java version (interpreters/java.ts). JVM homes live under /usr/lib/jvm (Debian, Alpine,
 * Red Hat) or /opt (Eclipse Temurin's /opt/java/openjdk); the file is a few hundred bytes.
 */
export const JAVA_KEEPS: readonly KeepRule[] = [
  { under: '/usr/lib/jvm', baseName: /^release$/, maxSize: 64 * 1024 },
  { under: '/opt', baseName: /^release$/, maxSize: 64 * 1024 },
]
