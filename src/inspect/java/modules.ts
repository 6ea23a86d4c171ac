/**
 * The JDK modules an app needs, decided statically for `jlink --add-modules`: the modules that own
 * the packages its classes use (jlink adds what those require by itself), modules named by the
 * app's modular jars, service interfaces its jars implement, and a short list of modules jlink
 * never adds on its own because they are only reached as service providers or agents at run time.
 */
import type { AppClasses } from './app-classes.js'
import type { JdkModules } from './jmods.js'

export interface ModuleChoice {
  name: string
  why: string
}

/**
 * Providers and agents: jlink resolves `requires`, not `provides`, so without --bind-services these
 * are left out although the running JVM looks them up. Each is added when the app shows the use.
 */
const PROVIDERS: { module: string; when: (u: Uses) => string | undefined }[] = [
  {
    module: 'jdk.crypto.ec',
    // TLS 1.2/1.3 handshakes negotiate ECDHE keys and most certificates are ECDSA: SunEC is in jdk.crypto.ec.
    when: (u) => u.pkg('javax.net.ssl') ?? u.pkg('java.net.http') ?? u.cls('java/net/URL') ?? u.cls('java/net/HttpURLConnection') ?? u.pkg('java.security.interfaces'),
  },
  // Formats, names and calendars of locales other than English come from the CLDR data in jdk.localedata.
  { module: 'jdk.localedata', when: (u) => u.pkg('java.text') ?? u.pkg('java.time.format') ?? u.cls('java/util/Locale') ?? u.cls('java/util/ResourceBundle') },
  // Charsets beyond the standard ones (UTF-8, ISO-8859-1, US-ASCII, UTF-16) are in jdk.charsets.
  { module: 'jdk.charsets', when: (u) => u.cls('java/nio/charset/Charset') },
  // FileSystems.newFileSystem on a jar or zip uses the zipfs provider.
  { module: 'jdk.zipfs', when: (u) => u.cls('java/nio/file/FileSystems') },
  // JNDI dns: URLs are served by jdk.naming.dns.
  { module: 'jdk.naming.dns', when: (u) => u.pkg('javax.naming') },
  { module: 'jdk.jdwp.agent', when: (u) => u.flag(/^-agentlib:jdwp/) ?? u.flag(/^-Xrunjdwp/) },
  { module: 'jdk.management.agent', when: (u) => u.flag(/^-Dcom\.sun\.management\.jmxremote/) },
  { module: 'java.instrument', when: (u) => u.flag(/^-javaagent:/) },
]

interface Uses {
  pkg(p: string): string | undefined
  cls(internal: string): string | undefined
  flag(re: RegExp): string | undefined
}

export interface ModuleDecision {
  modules: ModuleChoice[]
  /** Referenced packages neither the app nor the JDK has (one line each, first few). */
  unresolved: string[]
}

/** Decides the modules; `jvmFlags` are the launcher's options (and JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS). */
export function decideModules(app: AppClasses, jdk: JdkModules, jvmFlags: string[]): ModuleDecision {
  const chosen = new Map<string, string>([['java.base', 'every Java program runs on java.base']])
  const add = (m: string, why: string): void => {
    if (jdk.modules.has(m) && !chosen.has(m)) chosen.set(m, why)
  }
  const unresolved: string[] = []
  for (const [p, where] of [...app.used].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (app.own.has(p)) continue
    const owner = jdk.packageOwner.get(p)
    if (owner) add(owner, `the app uses ${p} (${where})`)
    else if (/^(java|javax|jdk|sun|com\.sun)\./.test(p) && unresolved.length < 10) unresolved.push(`${p} (used by ${where}) is in no module of this JDK`)
  }
  for (const [r, jar] of app.requires) add(r, `${jar}'s module-info requires it`)
  for (const [service, jar] of app.services) {
    const owner = jdk.packageOwner.get(service.slice(0, Math.max(0, service.lastIndexOf('.'))))
    if (owner) add(owner, `${jar} provides the service ${service}`)
  }
  for (const [name, where] of app.named) {
    const owner = jdk.packageOwner.get(name.slice(0, name.lastIndexOf('.')))
    if (owner && !app.own.has(name.slice(0, name.lastIndexOf('.')))) add(owner, `a string in ${where} names ${name} (a class loaded by name)`)
  }
  const uses: Uses = {
    pkg: (p) => (app.used.has(p) ? `the app uses ${p} (${app.used.get(p)})` : undefined),
    cls: (c) => (app.jdkClasses.has(c) ? `the app uses ${c.replace(/\//g, '.')} (${app.jdkClasses.get(c)})` : undefined),
    flag: (re) => {
      const f = jvmFlags.find((x) => re.test(x))
      return f ? `the JVM is started with ${f.slice(0, 80)}` : undefined
    },
  }
  for (const p of PROVIDERS) {
    const why = p.when(uses)
    if (why) add(p.module, `${why}; jlink adds ${p.module} only when asked (it provides a service, nothing requires it)`)
  }
  const modules = [...chosen].map(([name, why]) => ({ name, why }))
  return { modules: [modules[0]!, ...modules.slice(1).sort((a, b) => (a.name < b.name ? -1 : 1))], unresolved }
}
