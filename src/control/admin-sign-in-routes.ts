import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import {
  ADMIN_SIGN_IN_PATHS,
  adminSignInUnavailablePage,
  type AdminSignIn,
  type AuthResponse,
} from './identity/index.js';

/**
 * Serves the console's identity-provider sign-in on the admin listener (outside `/api/v1`: these
 * pages need no token); register it with `{ signIn }`. Without a sign-in the options say so and
 * the login pages answer 404.
 */
export const adminSignInRoutes: FastifyPluginCallback<{ signIn: AdminSignIn | undefined }> = (
  app,
  { signIn },
  done,
) => {
  app.get(ADMIN_SIGN_IN_PATHS.options, () => ({
    identity_provider: signIn?.identityProvider ?? null,
  }));
  for (const path of [ADMIN_SIGN_IN_PATHS.login, ADMIN_SIGN_IN_PATHS.callback]) {
    app.get(path, async (req, reply) => {
      const answer = signIn ? await signIn.respond(authRequest(req)) : undefined;
      return send(reply, answer ?? adminSignInUnavailablePage());
    });
  }
  done();
};

function authRequest(req: FastifyRequest) {
  return {
    method: req.method,
    target: req.url,
    host: req.headers.host,
    headers: req.headers,
    // The admin listener is plain HTTP; a TLS-terminating proxy in front says so itself.
    secure: req.protocol === 'https',
    // The TCP peer (as audit records use): login starts are limited per address.
    clientIp: req.socket.remoteAddress,
  };
}

function send(reply: FastifyReply, answer: AuthResponse): FastifyReply {
  return reply
    .code(answer.status)
    .headers(answer.headers as Record<string, string | string[]>)
    .send(answer.body);
}
