// Optional sign-in for the modern peer: JWT bearer tokens checked the way protected-server.mjs checks them
// (jose against the issuer's discovery document and keys: signature, iss, aud, exp; delegated tokens carrying
// the scope only), answered through the SDK's bearer-token helpers, plus the RFC 9728 metadata document.

import { OAuthError, OAuthErrorCode, bearerAuthChallengeResponse, verifyBearerToken } from '@modelcontextprotocol/server';
import * as jose from 'jose';

/**
 * `issuer` without a trailing slash; `audiences` the api://… values tokens may be issued for; `scope` the full
 * scope a client must ask for (api://…/mcp:tools); `resourceUrl()` and `metadataUrl()` this server's URLs.
 * Returns `authenticate(request)` (AuthInfo, or the 401/403 Response) and `metadata()`.
 */
export function bearerAuth({ issuer, audiences, scope, resourceUrl, metadataUrl }) {
  // Entra puts short names (mcp:tools) in scp; challenges name the full scope a client must ask for.
  const shortScope = scope.slice(scope.lastIndexOf('/') + 1);

  let jwksPromise;
  function jwks() {
    jwksPromise ??= (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const meta = await res.json();
      if (meta.issuer !== issuer) throw new Error(`discovery issuer ${meta.issuer} is not ${issuer}`);
      return jose.createRemoteJWKSet(new URL(meta.jwks_uri));
    })().catch((err) => {
      jwksPromise = undefined; // try again on the next request
      throw err;
    });
    return jwksPromise;
  }

  const verifier = {
    async verifyAccessToken(token) {
      let payload;
      try {
        ({ payload } = await jose.jwtVerify(token, await jwks(), {
          issuer, audience: audiences, algorithms: ['RS256'], requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw new OAuthError(OAuthErrorCode.InvalidToken, `The token was refused: ${err.message}`);
      }
      if (payload.idtyp === 'app' || (Array.isArray(payload.roles) && payload.scp === undefined)) {
        throw new OAuthError(OAuthErrorCode.InsufficientScope, 'App-only tokens are not accepted; a delegated (user) token is required');
      }
      const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
      if (!scopes.includes(shortScope)) throw new OAuthError(OAuthErrorCode.InsufficientScope, `The token lacks the scope "${shortScope}"`);
      return { token, clientId: String(payload.azp ?? ''), scopes, expiresAt: payload.exp, extra: { sub: payload.sub } };
    },
  };

  async function authenticate(request) {
    const authorization = request.headers.get('authorization');
    if (!authorization) {
      // RFC 6750 §3.1: a request without credentials gets a challenge without an error code (the SDK's helper
      // would say invalid_token), as protected-server.mjs answers too.
      const challenge = `Bearer resource_metadata="${metadataUrl()}", scope="${scope}"`;
      return Response.json({ error: 'unauthorized', error_description: 'Bearer token required' }, { status: 401, headers: { 'WWW-Authenticate': challenge } });
    }
    try {
      return await verifyBearerToken(authorization, { verifier, resourceMetadataUrl: metadataUrl() });
    } catch (err) {
      if (!(err instanceof OAuthError)) console.error('modern-peer: token check failed', err);
      return bearerAuthChallengeResponse(err, { requiredScopes: [scope], resourceMetadataUrl: metadataUrl() });
    }
  }

  const metadata = () => ({
    resource: resourceUrl(),
    authorization_servers: [issuer],
    scopes_supported: [scope],
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-console modern test peer',
  });

  // Fetch the keys early so the first request does not wait; a failure here is retried on demand.
  jwks().catch((err) => console.error(`modern-peer: discovery not reachable yet (${err.message}); will retry on demand`));
  return { authenticate, metadata };
}
