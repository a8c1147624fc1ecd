"""OAuth 2.1 sign-in, the parts both fronts share: storage and rules, no protocol framing.

The portal is the authorization server (its Flask front, `portal/oauth/`, frames
requests and responses with Authlib); the worker is the protected resource and
only verifies access tokens (`grants.load_access_token`). What lives here:

- `grants`: scopes, the resource the tokens are bound to (RFC 8707), authorization
  codes, grants, token issue and rotation with reuse detection, revocation.
- `clients`: who may ask: redirect URI rules, dynamic registration (RFC 7591)
  with its per-address limit and the expiry of unused registrations,
  pre-registered clients, and clients named by a metadata document URL.
- `metadata_document`: fetching a Client ID Metadata Document through the
  providers' SSRF-guarded HTTP client, size- and time-limited.
"""
