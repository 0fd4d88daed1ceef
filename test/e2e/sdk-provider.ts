/**
 * A minimal `OAuthClientProvider` for the official MCP SDK v1 client: client information, tokens
 * and the PKCE verifier in memory, and a `redirectToAuthorization` that drives our authorization
 * server's login and consent forms over HTTP and keeps the code for `transport.finishAuth(code)`.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js'
import { browserAuthorize } from '../interop/as-server.js'
import { PASSWORD, USERNAME } from './stack.js'

// Never contacted: the form driver stops at the redirect and reads the code from its Location.
const REDIRECT = 'http://127.0.0.1:53682/callback'

/** In-memory provider whose browser step is the form driver. */
export class FormDrivingProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined
  #tokens: OAuthTokens | undefined
  #verifier = ''
  #state = ''
  /** The code of the last completed authorization, for `finishAuth`. */
  code: string | undefined

  get redirectUrl(): string {
    return REDIRECT
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK v1 client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }

  state(): string {
    this.#state = crypto.randomUUID()
    return this.#state
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    const callback = await browserAuthorize(url.href, { username: USERNAME, password: PASSWORD })
    if (callback.searchParams.get('state') !== this.#state) throw new Error('state mismatch')
    const code = callback.searchParams.get('code')
    if (code === null) throw new Error(`no code: ${callback.searchParams.get('error') ?? 'unknown'}`)
    this.code = code
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier
  }

  codeVerifier(): string {
    return this.#verifier
  }
}
