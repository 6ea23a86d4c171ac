/**
 * Which module each file of a Java home's lib/, bin/ and conf/ belongs to. A runtime image does not
 * record it (only the jmods it was linked from did), yet relinking a JRE from its own lib/modules
 * needs it: each module's jmod is made with that module's files only, so the linked runtime gets
 * the native libraries, commands and configuration of the modules it holds and no others.
 *
 * The JDK 17 entries are checked against the jmods of Debian's openjdk-17-jdk-headless (the
 * legacy-java-jdk fixture: each jmod's lib/, bin/ and conf/ entries). Entries only other releases
 * have (11: libsunec, jdk.pack, nashorn, rmid, jaotc; 21 and later: jwebserver, libsyslookup in
 * java.base, libsimdsort) follow OpenJDK's source layout (src/<module>/.../native/lib<name>) and
 * are not checked against those releases' jmods here.
 * A file the table does not know stays with java.base (kept: a file too many, never one too few),
 * and the caller names it.
 */

/** Files no linked runtime takes from the home: jlink writes its own, or they describe the whole image. */
const NEVER_LINKED: [RegExp, string][] = [
  [/^lib\/modules$/, 'the image of every module: jlink writes the linked runtime\'s own'],
  [/^lib\/server\/classes(_nocoops)?(_coh)?\.jsa$/, 'a CDS archive dumped from the whole image, which does not match a runtime with other modules'],
  [/^lib\/src\.zip$/, 'the JDK\'s sources'],
]

/** Exact paths (relative to the home) → module. */
const FILES: Record<string, string> = {
  'bin/java': 'java.base',
  'bin/keytool': 'java.base',
  'lib/classlist': 'java.base',
  'lib/jexec': 'java.base',
  'lib/jrt-fs.jar': 'java.base',
  'lib/jspawnhelper': 'java.base',
  'lib/jvm.cfg': 'java.base',
  'lib/tzdb.dat': 'java.base',
  'lib/libjava.so': 'java.base',
  'lib/libjimage.so': 'java.base',
  'lib/libjli.so': 'java.base',
  'lib/libjsig.so': 'java.base',
  'lib/libnet.so': 'java.base',
  'lib/libnio.so': 'java.base',
  'lib/libverify.so': 'java.base',
  'lib/libzip.so': 'java.base',
  'lib/libsimdsort.so': 'java.base',
  'conf/net.properties': 'java.base',
  'conf/sdp/sdp.conf.template': 'java.base',
  'lib/libawt.so': 'java.desktop',
  'lib/libawt_headless.so': 'java.desktop',
  'lib/libawt_xawt.so': 'java.desktop',
  'lib/libfontmanager.so': 'java.desktop',
  'lib/libjavajpeg.so': 'java.desktop',
  'lib/libjawt.so': 'java.desktop',
  'lib/libjsound.so': 'java.desktop',
  'lib/liblcms.so': 'java.desktop',
  'lib/libmlib_image.so': 'java.desktop',
  'lib/libsplashscreen.so': 'java.desktop',
  'lib/psfont.properties.ja': 'java.desktop',
  'lib/psfontj2d.properties': 'java.desktop',
  'conf/sound.properties': 'java.desktop',
  'lib/libinstrument.so': 'java.instrument',
  'conf/logging.properties': 'java.logging',
  'lib/libmanagement.so': 'java.management',
  'lib/libprefs.so': 'java.prefs',
  'lib/librmi.so': 'java.rmi',
  'bin/rmiregistry': 'java.rmi',
  'bin/rmid': 'java.rmi',
  'bin/jrunscript': 'java.scripting',
  'lib/libj2gss.so': 'java.security.jgss',
  'lib/libj2pcsc.so': 'java.smartcardio',
  'lib/libattach.so': 'jdk.attach',
  'bin/javac': 'jdk.compiler',
  'bin/serialver': 'jdk.compiler',
  'lib/ct.sym': 'jdk.compiler',
  'lib/libj2pkcs11.so': 'jdk.crypto.cryptoki',
  'lib/libsunec.so': 'jdk.crypto.ec',
  'bin/jhsdb': 'jdk.hotspot.agent',
  'lib/libsaproc.so': 'jdk.hotspot.agent',
  'bin/jwebserver': 'jdk.httpserver',
  'lib/libjsvml.so': 'jdk.incubator.vector',
  'bin/jar': 'jdk.jartool',
  'bin/jarsigner': 'jdk.jartool',
  'bin/javadoc': 'jdk.javadoc',
  'bin/jcmd': 'jdk.jcmd',
  'bin/jinfo': 'jdk.jcmd',
  'bin/jmap': 'jdk.jcmd',
  'bin/jps': 'jdk.jcmd',
  'bin/jstack': 'jdk.jcmd',
  'bin/jstat': 'jdk.jcmd',
  'bin/jconsole': 'jdk.jconsole',
  'bin/javap': 'jdk.jdeps',
  'bin/jdeprscan': 'jdk.jdeps',
  'bin/jdeps': 'jdk.jdeps',
  'bin/jdb': 'jdk.jdi',
  'lib/libdt_socket.so': 'jdk.jdwp.agent',
  'lib/libjdwp.so': 'jdk.jdwp.agent',
  'bin/jfr': 'jdk.jfr',
  'bin/jimage': 'jdk.jlink',
  'bin/jlink': 'jdk.jlink',
  'bin/jmod': 'jdk.jlink',
  'bin/jpackage': 'jdk.jpackage',
  'bin/jshell': 'jdk.jshell',
  'bin/jstatd': 'jdk.jstatd',
  'lib/libmanagement_ext.so': 'jdk.management',
  'lib/libmanagement_agent.so': 'jdk.management.agent',
  'lib/libextnet.so': 'jdk.net',
  'bin/pack200': 'jdk.pack',
  'bin/unpack200': 'jdk.pack',
  'lib/libunpack.so': 'jdk.pack',
  'bin/jjs': 'jdk.scripting.nashorn',
  'bin/jaotc': 'jdk.aot',
  'lib/libsctp.so': 'jdk.sctp',
  'lib/libjaas.so': 'jdk.security.auth',
}

/** Trees (relative to the home) → module. */
const TREES: [RegExp, string][] = [
  [/^lib\/server\/lib(jvm|jsig)\.so$/, 'java.base'],
  [/^lib\/(client|minimal|zero)\/lib(jvm|jsig)\.so$/, 'java.base'],
  [/^lib\/security\/[^/]+$/, 'java.base'],
  [/^conf\/security\//, 'java.base'],
  [/^lib\/jfr\/[^/]+\.jfc$/, 'jdk.jfr'],
  [/^conf\/management\//, 'jdk.management.agent'],
]

export type HomeFileOwner = { module: string; known: boolean } | { leftOut: string }

/**
 * The module `rel` (a path relative to the home: "lib/libnet.so") belongs to, for a JDK of
 * release `major`; an unknown file is java.base's (known: false).
 */
export function homeFileOwner(rel: string, major: number): HomeFileOwner {
  for (const [re, why] of NEVER_LINKED) if (re.test(rel)) return { leftOut: why }
  // The system lookup of the foreign function API: an incubator module's until JDK 18, java.base's since 19.
  if (rel === 'lib/libsyslookup.so') return { module: major <= 18 ? 'jdk.incubator.foreign' : 'java.base', known: true }
  const exact = FILES[rel]
  if (exact) return { module: exact, known: true }
  for (const [re, module] of TREES) if (re.test(rel)) return { module, known: true }
  return { module: 'java.base', known: false }
}
