// A real OpenID provider for fulcio-rs tests: npm `oidc-provider` (OpenID Certified) on 127.0.0.1.
//
// Usage: node server.js [--port N] [--alg ES256|RS256] [--modules DIR]
//   --port     port to listen on (env OIDC_PROVIDER_PORT; default 0 = any free port)
//   --alg      signing algorithm of ID tokens (env OIDC_PROVIDER_ALG; default ES256)
//   --modules  the node_modules folder holding oidc-provider (env OIDC_PROVIDER_MODULES);
//              the modules live in a cache outside the clone (scripts/ensure-test-deps), and ES
//              modules ignore NODE_PATH, so the folder is passed in explicitly
//
// Once listening it prints one JSON line on stdout, {"issuer":"http://127.0.0.1:PORT"}, and
// serves until killed.
//
// What it offers:
// - client `sigstore`: public (no secret), PKCE S256 required, redirect URIs
//   http://127.0.0.1/callback and http://localhost/auth/callback (the Sigstore clients' default);
//   as a native app's loopback URIs they match any port too (RFC 8252 §7.3), so a client may
//   listen on an ephemeral one; grants authorization_code and
//   urn:ietf:params:oauth:grant-type:device_code;
// - ID tokens signed with --alg (both an EC P-256 and an RSA-2048 key are in the JWKS);
// - scope `email` → claims `email` and `email_verified` (true), in the ID token itself;
// - any login hint is an account: the account id, `sub` and `email` all equal the login hint
//   (default user@example.com);
// - no UI: every login and consent interaction completes at once, so a plain HTTP client with a
//   cookie jar that follows redirects gets an authorization code;
// - the device authorization grant (RFC 8628), whose verification pages are bare HTML forms of
//   hidden inputs that such a client can submit.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const REDIRECT_URI = 'http://127.0.0.1/callback';
// The loopback redirect Sigstore clients such as cosign use by default (with a port).
const LOCALHOST_REDIRECT_URI = 'http://localhost/auth/callback';
const DEFAULT_EMAIL = 'user@example.com';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PROVIDER_PORT ?? '0' },
    alg: { type: 'string', default: process.env.OIDC_PROVIDER_ALG ?? 'ES256' },
    modules: { type: 'string', default: process.env.OIDC_PROVIDER_MODULES ?? '' },
  },
});

if (!['ES256', 'RS256'].includes(args.alg)) {
  console.error(`unsupported --alg ${args.alg}: use ES256 or RS256`);
  process.exit(2);
}

/** Loads oidc-provider from --modules, or from the usual resolution when run inside a project. */
async function loadProvider() {
  if (args.modules === '') {
    return (await import('oidc-provider')).default;
  }
  const require = createRequire(join(args.modules, '..', 'package.json'));
  const entry = require.resolve('oidc-provider', { paths: [args.modules] });
  return (await import(pathToFileURL(entry).href)).default;
}

/** A fresh private JWK of the given kind, with the `alg`/`use` the provider signs with. */
function signingJwk(kind) {
  const { privateKey } = kind === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    ...jwk,
    alg: kind === 'ec' ? 'ES256' : 'RS256',
    use: 'sig',
    kid: `${kind}-${randomBytes(6).toString('hex')}`,
  };
}

/** A bare HTML page around `body`. */
function page(body) {
  return `<!DOCTYPE html><html><head><title>test provider</title></head><body>${body}</body></html>`;
}

const Provider = await loadProvider();

// Listen first: with port 0 the issuer URL is only known once the socket is bound.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'sigstore',
      client_name: 'sigstore',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [REDIRECT_URI, LOCALHOST_REDIRECT_URI],
      response_types: ['code'],
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      id_token_signed_response_alg: args.alg,
    },
  ],
  jwks: { keys: [signingJwk('ec'), signingJwk('rsa')] },
  // Random per run: nothing outlives the process.
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
  },
  // Put the scope's claims into the ID token (the default keeps them for userinfo only when an
  // access token is issued too); Fulcio reads `email` from the ID token.
  conformIdTokenClaims: false,
  scopes: ['openid', 'email'],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    // Plain pages whose forms carry only hidden inputs, so a client without JavaScript can
    // submit them (the defaults auto-submit with a script, and log a notice on stdout).
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, _out, err) {
        ctx.body = page(err ? `<p>error: ${err.name}</p>${form}` : form);
      },
      async userCodeConfirmSource(ctx, form) {
        ctx.body = page(form);
      },
      async successSource(ctx) {
        ctx.body = page('<p id="device-flow-success">signed in</p>');
      },
    },
  },
  interactions: {
    url(_ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  ttl: {
    // Long enough for a test; Fulcio checks only `exp`.
    IdToken: 600,
    AccessToken: 600,
    AuthorizationCode: 60,
    DeviceCode: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
});

/** Completes a login or consent prompt without asking anyone. */
async function completeInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  if (prompt.name === 'login') {
    const accountId = typeof params.login_hint === 'string' && params.login_hint !== ''
      ? params.login_hint
      : DEFAULT_EMAIL;
    await provider.interactionFinished(req, res, { login: { accountId } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    }
    if (missing.missingOIDCClaims) {
      grant.addOIDCClaims(missing.missingOIDCClaims);
    }
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const saved = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId: saved } }, {
      mergeWithLastSubmission: true,
    });
    return;
  }
  res.statusCode = 501;
  res.end(`prompt ${prompt.name} is not handled by the test provider`);
}

const providerCallback = provider.callback();
handler = (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    completeInteraction(req, res).catch((err) => {
      console.error('interaction failed:', err);
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  providerCallback(req, res);
};

// Errors go to stderr so the harness can show them when a flow fails.
provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
provider.on('grant.error', (_ctx, err) => console.error('grant.error:', err.message, err.error_description ?? ''));
provider.on('authorization.error', (_ctx, err) => console.error('authorization.error:', err.message, err.error_description ?? ''));

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
