/**
 * Credentials must never reach output, errors or logs. Everything that prints text a remote side or
 * a user config produced goes through `redact`, which removes the secrets slim knows about plus
 * anything shaped like an Authorization value or URL userinfo.
 */
const known = new Set<string>()

/** Register a secret (password, token, auth string) so it is masked wherever it appears later. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 3) known.add(secret)
}

export function redact(text: string): string {
  let out = text
  for (const s of known) out = out.split(s).join('***')
  out = out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 ***')
  out = out.replace(/(\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1***@')
  out = out.replace(/("?(?:password|secret|token|access_token|refresh_token|auth|identitytoken)"?\s*[:=]\s*)"[^"]*"/gi, '$1"***"')
  return out
}
