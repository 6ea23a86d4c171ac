/** Credentials for one registry, from wherever they were found. */
export interface Credential {
  username?: string
  password?: string
  /** An OAuth2 refresh token (`identitytoken` in Docker's config), exchanged at the token realm. */
  identityToken?: string
  /** Where it came from, for debug logs (never the secret itself), e.g. `~/.docker/config.json`. */
  source: string
}

/** The shape shared by Docker's config.json and podman's auth.json (the parts slim reads). */
export interface AuthConfigFile {
  auths?: Record<string, AuthEntry | null>
  credHelpers?: Record<string, string>
  credsStore?: string
}

export interface AuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}
